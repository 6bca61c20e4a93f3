"""The site built from the Musterstadt demo with a real, strict mkdocs build."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from fetch.archive import Archive, slug


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _archive(site: Path) -> Archive:
    return Archive(site.parent / "demo" / "archive")


def test_every_archived_post_has_a_page_at_its_permalink(demo_site: Path) -> None:
    posts = list(_archive(demo_site).iter_posts())
    assert len(posts) > 30
    for post in posts:
        page = demo_site / "beitrag" / post.account / slug(post.native_id) / "index.html"
        assert page.exists(), post.id
        article = _soup(page).find("article", id=re.compile(r"^p-"))
        assert article is not None
        if post.language:
            assert article.get("lang") == post.language


def test_timeline_is_newest_first_and_paginated(demo_site: Path) -> None:
    home = _soup(demo_site / "index.html")
    html_lang = home.find("html")
    assert html_lang is not None and html_lang.get("lang") == "de"
    times = [
        t["datetime"]
        for t in home.select(".aushang-feed article time[datetime]")
        if t.find_parent(class_="aushang-post__date")
    ]
    assert times == sorted(times, reverse=True)
    assert len(home.select(".aushang-feed > article")) == 20
    # Older pages are index lines, 100 to a page, numbered from the oldest post (so old pages
    # never change), without the posts on the home page: the 100 demo posts are the home
    # page's 20 teasers and page 1's 80 lines.
    older = home.select_one('.aushang-pagination a[rel="next"]')
    assert older is not None and older["href"] == "seite/1/"
    page1 = _soup(demo_site / "seite" / "1" / "index.html")
    assert not page1.select(".aushang-feed > article")
    lines = page1.select("ol.aushang-index > li")
    assert len(lines) == 80
    days = [line.select_one("time")["datetime"] for line in lines]
    assert days == sorted(days, reverse=True) and days[0] <= min(times)[:10]
    newer = page1.select_one('.aushang-pagination a[rel="prev"]')
    assert newer is not None and newer["href"] == "../../"
    assert page1.select_one('.aushang-pagination a[rel="next"]') is None  # the oldest
    assert not (demo_site / "seite" / "2").exists()


def test_images_are_local_with_alt_text_or_a_visible_note(demo_site: Path) -> None:
    archive = _archive(demo_site)
    for post in archive.iter_posts():
        page = demo_site / "beitrag" / post.account / slug(post.native_id) / "index.html"
        soup = _soup(page)
        article = soup.select_one("article.aushang-post--full")
        assert article is not None
        figures = article.select(".aushang-media__item")
        assert len(figures) == len(post.media)
        for media, figure in zip(post.media, figures, strict=True):
            image = figure.find("img")
            if media.variants:
                assert image is not None
                assert image["src"].startswith("../../../media/")
                assert (page.parent / image["src"]).resolve().exists()
                assert image["alt"] == media.alt
            note = figure.select_one(".aushang-media__alt--missing")
            assert (note is not None) == (not media.alt)


def test_the_legal_pages_are_filled_from_the_config(demo_site: Path) -> None:
    impressum = (demo_site / "about" / "impressum" / "index.html").read_text(encoding="utf-8")
    assert "Rathausplatz 1, 12345 Musterstadt" in impressum
    assert "{{" not in impressum
