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
    # Pages are numbered from the oldest post (so old pages never change): the 100 demo posts
    # are the home page's 20 and pages 4 (next older) down to 1 (the oldest).
    older = home.select_one('.aushang-pagination a[rel="next"]')
    assert older is not None and older["href"] == "seite/4/"
    page4 = _soup(demo_site / "seite" / "4" / "index.html")
    page4_times = [t["datetime"] for t in page4.select(".aushang-post__date time")]
    assert len(page4_times) == 20 and max(page4_times) <= min(times)
    newer = page4.select_one('.aushang-pagination a[rel="prev"]')
    assert newer is not None and newer["href"] == "../../"
    page1 = _soup(demo_site / "seite" / "1" / "index.html")
    assert page1.select_one('.aushang-pagination a[rel="next"]') is None  # the oldest
    assert not (demo_site / "seite" / "5").exists()  # shown on the home page


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
