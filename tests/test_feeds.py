"""The feeds of the built Musterstadt site, read the way feed readers read them: feedparser for
RSS and Atom (a malformed feed sets ``bozo``), the JSON Feed 1.1 spec's required fields."""

from __future__ import annotations

import json
import logging
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup

from fetch.archive import Archive, slug
from fetch.config import load_config
from fetch.model import ImageVariant, Media, Post
from fetch.run import run_fetch
from fetch.site.build import build_site
from fetch.site.feeds import FEED_SIZE, render_feeds
from fetch.site.render import SiteContext, prepare
from tests.conftest import write_config

SITE_URL = "https://aushang.musterstadt.de/"  # the demo's site.url (aushang.yml)


def _archive(site: Path) -> Archive:
    return Archive(site.parent / "demo" / "archive")


def _parse(path: Path) -> Any:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, f"{path}: {parsed.get('bozo_exception')}"
    return parsed


def _post_url(post: Post) -> str:
    return f"{SITE_URL}beitrag/{post.account}/{slug(post.native_id)}/"


def test_rss_is_valid_with_full_text_images_and_alt_text(demo_site: Path) -> None:
    parsed = _parse(demo_site / "feed" / "rss.xml")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Aushang Musterstadt: alle Beiträge"
    assert parsed.feed.link == SITE_URL
    assert parsed.feed.language == "de"
    posts = sorted(
        _archive(demo_site).iter_posts(), key=lambda p: (p.published, p.id), reverse=True
    )
    entries = parsed.entries
    assert len(entries) == min(FEED_SIZE, len(posts))
    assert [e.link for e in entries] == [_post_url(p) for p in posts[:FEED_SIZE]]
    by_link = {_post_url(p): p for p in posts}
    with_images = 0
    for entry in entries:
        post = by_link[entry.link]
        assert entry.id == f"urn:aushang:{post.id}"
        assert entry.title
        published = parsedate_to_datetime(entry.published)
        assert published.isoformat() == post.published
        html = entry.content[0].value
        soup = BeautifulSoup(html, "html.parser")
        images = [m for m in post.media if m.kind == "image" and m.variants]
        if images:
            with_images += 1
            enclosures = entry.enclosures
            assert len(enclosures) == 1
            assert enclosures[0].href.startswith(SITE_URL + "media/")
            assert int(enclosures[0].length) > 0
            assert enclosures[0].type == "image/webp"
            assert [c["url"] for c in entry.media_content] == [
                SITE_URL + "media/" + m.variants[-1].path for m in images
            ]
            shown = soup.select("img")
            for media in images:
                image = next(i for i in shown if i["src"].endswith(media.variants[-1].path))
                assert image["alt"] == media.alt
        for link in soup.select("a[href], img[src]"):
            target = link.get("href") or link.get("src")
            assert urlsplit(target).scheme in ("https", "mailto"), target
    assert with_images > 0


def test_rss_carries_each_image_description_in_media_rss(demo_site: Path) -> None:
    """feedparser keeps only the last media:description; read the XML to see every one."""
    from xml.etree import ElementTree

    tree = ElementTree.parse(demo_site / "feed" / "rss.xml")  # noqa: S314 (our own output)
    media = "{http://search.yahoo.com/mrss/}"
    alts = {
        content.get("url"): (content.findtext(f"{media}description") or "")
        for content in tree.iter(f"{media}content")
    }
    expected = {
        SITE_URL + "media/" + m.variants[-1].path: m.alt
        for p in _archive(demo_site).iter_posts()
        for m in p.media
        if m.kind == "image" and m.variants
    }
    assert alts
    for url, alt in alts.items():
        assert expected[url] == alt


def test_atom_is_valid_with_html_content_and_enclosures(demo_site: Path) -> None:
    parsed = _parse(demo_site / "feed" / "atom.xml")
    assert parsed.version == "atom10"
    assert parsed.feed.id == "urn:aushang:feed:alle"
    assert parsed.feed.updated
    assert parsed.feed.author == "Musterstadt"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == SITE_URL + "feed/atom.xml"
    assert links["alternate"] == SITE_URL
    for entry in parsed.entries:
        assert entry.id.startswith("urn:aushang:")
        assert entry.title and entry.updated and entry.published and entry.author
        assert entry.content[0].type == "text/html"
        assert entry.link.startswith(SITE_URL + "beitrag/")
        for enclosure in entry.enclosures:
            assert enclosure.href.startswith(SITE_URL + "media/")
    with_enclosures = [e for e in parsed.entries if e.enclosures]
    assert with_enclosures
    titled = [enc for e in with_enclosures for enc in e.enclosures if enc.get("title")]
    assert titled  # alt text as the enclosure's title


def test_json_feed_has_the_spec_required_fields(demo_site: Path) -> None:
    """JSON Feed 1.1: version, title, items; each item an id and content_html or
    content_text; attachments with url and mime_type; every URL absolute."""
    document = json.loads((demo_site / "feed" / "feed.json").read_text(encoding="utf-8"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert document["home_page_url"] == SITE_URL
    assert document["feed_url"] == SITE_URL + "feed/feed.json"
    assert document["language"] == "de"
    items = document["items"]
    assert 0 < len(items) <= FEED_SIZE
    ids = [item["id"] for item in items]
    assert len(set(ids)) == len(ids)
    for item in items:
        assert isinstance(item["id"], str)
        assert item.get("content_html") or item.get("content_text")
        assert item["url"].startswith(SITE_URL)
        assert item["date_published"].endswith("+00:00")
        for attachment in item.get("attachments", []):
            assert attachment["url"].startswith(SITE_URL + "media/")
            assert attachment["mime_type"].startswith("image/")
            assert attachment["size_in_bytes"] > 0
    assert any(a.get("title") for i in items for a in i.get("attachments", []))


def test_each_account_has_its_own_feeds_with_only_its_posts(demo_site: Path) -> None:
    config = load_config(demo_site.parent / "aushang.yml")
    archive = _archive(demo_site)
    for account in config.accounts:
        folder = demo_site / "feed" / "konto"
        rss = _parse(folder / f"{account.key}.rss.xml")
        atom = _parse(folder / f"{account.key}.atom.xml")
        document = json.loads((folder / f"{account.key}.json").read_text(encoding="utf-8"))
        own = {_post_url(p) for p in archive.iter_posts(account.key)}
        assert {e.link for e in rss.entries} <= own
        assert len(rss.entries) == min(FEED_SIZE, len(own))
        assert {e.link for e in atom.entries} == {e.link for e in rss.entries}
        assert {i["url"] for i in document["items"]} == {e.link for e in rss.entries}
        assert account.name in rss.feed.title


def test_every_page_but_a_posts_own_announces_the_feeds(demo_site: Path) -> None:
    """<link rel="alternate"> on every page but a post's own, relative, pointing at files that
    exist, each feed once; an account page also announces its own feeds."""
    pages = sorted(demo_site.rglob("*.html"))
    assert len(pages) > 50
    posts = [page for page in pages if page.relative_to(demo_site).parts[0] == "beitrag"]
    assert posts
    for page in posts:
        assert "alternate" not in page.read_text(encoding="utf-8")
    for page in sorted(set(pages) - set(posts)):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        links = soup.select('head link[rel="alternate"]')
        assert len({link["href"] for link in links}) == len(links), page
        types = {link["type"] for link in links}
        assert {"application/rss+xml", "application/atom+xml", "application/feed+json"} <= types
        for link in links:
            href = link["href"]
            if page.name == "404.html":  # served at any depth: root-relative, like its CSS
                target = demo_site / href.lstrip("/")
            else:
                assert not href.startswith(("/", "http")), (page, href)
                target = page.parent / href
            assert target.resolve().is_file(), (page, href)
    account = BeautifulSoup(
        (demo_site / "konto" / "feuerwehr" / "index.html").read_text(encoding="utf-8"),
        "html.parser",
    )
    hrefs = [link["href"] for link in account.select('head link[rel="alternate"]')]
    assert "../../feed/konto/feuerwehr.rss.xml" in hrefs


def test_feed_folders_hold_a_tiny_sitemap_for_the_theme(demo_site: Path) -> None:
    """mkdocs-material fetches sitemap.xml beside each rel=alternate link: it must be tiny."""
    for folder in (demo_site / "feed", demo_site / "feed" / "konto"):
        sitemap = folder / "sitemap.xml"
        assert sitemap.stat().st_size < 200
        assert b"<urlset" in sitemap.read_bytes()


def _image_post(number: int) -> Post:
    return Post(
        id=f"mastodon:stadt:{number}",
        platform="mastodon",
        account="stadt",
        native_id=str(number),
        url=f"https://musterstadt.social/@stadt/{number}",
        published=f"2026-01-01T{number // 60:02d}:{number % 60:02d}:00+00:00",
        text_html=f"<p>Beitrag {number}</p>",
        media=(
            Media(
                kind="image",
                alt=f"Bild {number}",
                variants=(ImageVariant(f"aa/{number}.webp", 480, 240, "image/webp"),),
            ),
        ),
    )


def test_feeds_hold_the_latest_fifty_posts() -> None:
    posts = [_image_post(n) for n in range(FEED_SIZE + 15)]
    model = prepare(
        posts,
        SiteContext(language="de", timezone="Europe/Berlin", account_names={"stadt": "Stadt"}),
    )
    files = render_feeds(
        model,
        site_url=SITE_URL,
        site_title="Aushang",
        site_description="",
        city="Musterstadt",
        media_size=lambda path: 1234,
    )
    parsed = feedparser.parse(files["feed/rss.xml"])
    assert parsed.bozo == 0
    assert len(parsed.entries) == FEED_SIZE
    newest = [f"{SITE_URL}beitrag/stadt/{n}/" for n in range(FEED_SIZE + 14, 14, -1)]
    assert [e.link for e in parsed.entries] == newest
    assert len(json.loads(files["feed/konto/stadt.json"])["items"]) == FEED_SIZE


def test_without_site_url_feeds_use_root_relative_links_and_the_build_warns(
    tmp_path: Path, server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, server)
    assert config.site.url == ""
    assert run_fetch(config).exit_code == 0
    with caplog.at_level(logging.WARNING, logger="aushang.feeds"):
        build_site(config)
    assert any("site.url is not set" in r.getMessage() for r in caplog.records)
    parsed = _parse(config.site_dir / "feed" / "rss.xml")
    assert parsed.entries
    raw = (config.site_dir / "feed" / "rss.xml").read_text(encoding="utf-8")
    assert "<link>/beitrag/" in raw
    document = json.loads((config.site_dir / "feed" / "feed.json").read_text(encoding="utf-8"))
    assert document["feed_url"] == "/feed/feed.json"
    assert all(item["url"].startswith("/beitrag/") for item in document["items"])
