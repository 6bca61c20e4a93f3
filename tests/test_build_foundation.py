"""The site built from the Musterstadt demo with a real, strict mkdocs build."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

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
    # The older posts are the months' pages: "older" leads from the home page to the month of
    # the first post it does not show, and from month to month back to the oldest post. The
    # home page's 20 teasers and the lines on that way hold every post once, newest first (the
    # first month page may repeat some of the home page's posts).
    assert not (demo_site / "seite").exists()
    shown = [
        a["href"].split("beitrag/", 1)[1]
        for a in home.select(".aushang-feed > article a.aushang-post__date")
    ]
    found: list[str] = []
    days: list[str] = []
    page, url = home, "http://site/"
    while (older := page.select_one('.aushang-pagination a[rel="next"]')) is not None:
        url = urljoin(url, older["href"])
        assert url.startswith("http://site/archiv/"), url
        page = _soup(demo_site / url.removeprefix("http://site/") / "index.html")
        for line in page.select("ol.aushang-index > li"):
            found.append(line.select_one("a")["href"].split("beitrag/", 1)[1])
            days.append(line.select_one("time")["datetime"])
    assert days == sorted(days, reverse=True)
    assert len(set(found)) == len(found)
    repeated = [post for post in found if post in shown]
    assert found[: len(repeated)] == repeated  # only at the start of the first month page
    assert len(set(found) | set(shown)) == len(found) + len(shown) - len(repeated) == 100


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
