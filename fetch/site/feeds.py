"""The feeds a citizen subscribes to without an account: RSS 2.0, Atom and JSON Feed 1.1.

Written by our own code, not by a theme plugin, so they survive a change of the site
generator. One set for everything (``feed/rss.xml``, ``feed/atom.xml``, ``feed/feed.json``)
and one per account (``feed/konto/<key>.rss.xml``, ``.atom.xml``, ``.json``), each with the
latest ``FEED_SIZE`` posts in full: HTML content, images with their alt text, the link to the
original. Every page announces them with ``<link rel="alternate">`` (overrides/main.html).

Why all feeds live in ``feed/``, each folder with an empty ``sitemap.xml``: mkdocs-material's
script fetches ``sitemap.xml`` from the folder of every ``<link rel="alternate">`` on a page
(it expects language versions of the site there). Next to a feed at the site root that would
be the site's own sitemap, about 15 MB at 100,000 posts, downloaded on a reader's first page
view; in ``feed/`` it is a 100-byte file, and nothing 404s.

Specifications:

- RSS 2.0: https://www.rssboard.org/rss-specification (one ``<enclosure>`` per item, so the
  first image goes there; every image with its description goes into Media RSS
  ``<media:content>``, https://www.rssboard.org/media-rss)
- Atom: RFC 4287, https://www.rfc-editor.org/rfc/rfc4287 (images as ``link rel="enclosure"``
  with the alt text as ``title``)
- JSON Feed 1.1: https://www.jsonfeed.org/version/1.1/ (images as ``attachments`` with ``title``)

Feed readers need absolute URLs. With ``site.url`` configured every link is absolute; without
it the feeds are still written, with root-relative links (``/beitrag/…``) that only work when
the site is served from the root of its host, and the build warns (docs/technik/abonnieren.md).

Item ids are ``urn:aushang:<post id>``: stable when the site moves to another address, so a
reader never sees a post twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..times import parse_time
from .render import SiteModel, account_url, feed_links, feed_path, platform_label

log = logging.getLogger("aushang.feeds")

FEED_SIZE = 50
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "Aushang"
EMPTY_SITEMAP = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>\n'
)

ET.register_namespace("atom", ATOM)
ET.register_namespace("content", CONTENT)
ET.register_namespace("media", MEDIA)


@dataclass(frozen=True)
class Feed:
    """One feed's identity: where it lives and what it holds."""

    account: str | None  # None for the site-wide feeds
    title: str
    description: str
    page: str  # the HTML page the feed mirrors, relative to the root

    def path(self, kind: str) -> str:
        return feed_path(kind, self.account)


@dataclass(frozen=True)
class FeedItem:
    id: str
    url: str
    title: str
    html: str
    text: str
    published: str
    updated: str
    author: str
    language: str | None
    tags: tuple[str, ...]
    images: tuple[dict[str, Any], ...]  # {url, mime, size, alt, width, height}


def render_feeds(
    model: SiteModel,
    *,
    site_url: str,
    site_title: str,
    site_description: str,
    city: str,
    media_size: Callable[[str], int],
) -> dict[str, bytes]:
    """Every feed file, as {path relative to the site root: bytes}."""
    renderer = model.renderer
    t = renderer.strings
    if not site_url:
        log.warning(
            "site.url is not set: feeds use root-relative links (/beitrag/...), which feed "
            "readers resolve only when the site is served from the root of its host. Set "
            "site.url in aushang.yml to the address the site is published at."
        )
    root = site_url or "/"
    template = renderer.env.get_template("feed_item.html")

    def item(view: Any) -> FeedItem:
        html = template.render(p=view, base=root, t=t, text=renderer.text).strip()
        images = []
        for media in view.post.media:
            if media.kind == "image" and media.variants:
                largest = media.variants[-1]
                images.append(
                    {
                        "url": renderer.media_root(root) + largest.path,
                        "mime": largest.mime,
                        "size": media_size(largest.path),
                        "alt": media.alt,
                        "width": largest.width,
                        "height": largest.height,
                    }
                )
        tags = tuple(renderer.tag_names.get(s, s) for s in view.tag_slugs)
        return FeedItem(
            id="urn:aushang:" + view.post.id,
            url=root + view.url,
            title=view.title,
            html=html,
            text=_plain(view),
            published=view.post.published,
            updated=view.post.edited or view.post.published,
            author=view.account_name,
            language=view.post.language,
            tags=tags,
            images=tuple(images),
        )

    feeds: list[tuple[Feed, list[Any]]] = [
        (
            Feed(
                account=None,
                title=t["feed_all_title"].format(site=site_title),
                description=site_description or t["timeline_intro"],
                page="",
            ),
            model.views[:FEED_SIZE],
        )
    ]
    by_account: dict[str, list[Any]] = {key: [] for key in renderer.context.account_names}
    for view in model.views:
        by_account.setdefault(view.post.account, []).append(view)
    platforms = dict(renderer.context.account_platforms)
    for key, views in by_account.items():
        name = renderer.context.account_names.get(key, key)
        platform = platforms.get(key) or (views[0].post.platform if views else "")
        feeds.append(
            (
                Feed(
                    account=key,
                    title=t["feed_account_title"].format(site=site_title, name=name),
                    description=t["account_intro"].format(
                        name=name, platform=platform_label(platform)
                    ),
                    page=account_url(key),
                ),
                views[:FEED_SIZE],
            )
        )
    files: dict[str, bytes] = {}
    language = renderer.context.language
    for feed, views in feeds:
        items = [item(view) for view in views]
        files[feed.path("rss")] = rss(feed, items, root=root, language=language)
        files[feed.path("atom")] = atom(feed, items, root=root, language=language, city=city)
        files[feed.path("json")] = json_feed(feed, items, root=root, language=language, city=city)
    for folder in {path.rsplit("/", 1)[0] for path in list(files)}:
        files[f"{folder}/sitemap.xml"] = EMPTY_SITEMAP
    return files


def announced_feeds(site_title: str, strings: dict[str, str]) -> list[dict[str, str]]:
    """The site-wide feeds every page but a post's own announces with <link rel="alternate">."""
    return feed_links(None, strings["feed_all_title"].format(site=site_title), strings)


def rss(feed: Feed, items: list[FeedItem], *, root: str, language: str) -> bytes:
    channel_root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(channel_root, "channel")
    _text(channel, "title", feed.title)
    _text(channel, "link", root + feed.page)
    _text(channel, "description", feed.description)
    _text(channel, "language", language)
    _text(channel, "generator", GENERATOR)
    if items:
        _text(channel, "lastBuildDate", _rfc822(max(i.updated for i in items)))
    ET.SubElement(
        channel,
        f"{{{ATOM}}}link",
        {"href": root + feed.path("rss"), "rel": "self", "type": "application/rss+xml"},
    )
    for entry in items:
        node = ET.SubElement(channel, "item")
        _text(node, "title", entry.title)
        _text(node, "link", entry.url)
        _text(node, "guid", entry.id).set("isPermaLink", "false")
        _text(node, "pubDate", _rfc822(entry.published))
        _text(node, "description", _shorten(entry.text, 300))
        _text(node, f"{{{CONTENT}}}encoded", entry.html)
        for tag in entry.tags:
            _text(node, "category", tag)
        if entry.images:
            first = entry.images[0]
            ET.SubElement(
                node,
                "enclosure",
                {"url": first["url"], "length": str(first["size"]), "type": first["mime"]},
            )
        for image in entry.images:
            content = ET.SubElement(
                node,
                f"{{{MEDIA}}}content",
                {
                    "url": image["url"],
                    "type": image["mime"],
                    "medium": "image",
                    "fileSize": str(image["size"]),
                    "width": str(image["width"]),
                    "height": str(image["height"]),
                },
            )
            if image["alt"]:
                _text(content, f"{{{MEDIA}}}description", image["alt"]).set("type", "plain")
    return _xml(channel_root)


def atom(feed: Feed, items: list[FeedItem], *, root: str, language: str, city: str) -> bytes:
    node = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: language})
    _text(node, f"{{{ATOM}}}id", "urn:aushang:feed:" + (feed.account or "alle"))
    _text(node, f"{{{ATOM}}}title", feed.title)
    _text(node, f"{{{ATOM}}}subtitle", feed.description)
    updated = max((i.updated for i in items), default="1970-01-01T00:00:00+00:00")
    _text(node, f"{{{ATOM}}}updated", updated)
    author = ET.SubElement(node, f"{{{ATOM}}}author")
    _text(author, f"{{{ATOM}}}name", city)
    ET.SubElement(
        node,
        f"{{{ATOM}}}link",
        {"rel": "self", "type": "application/atom+xml", "href": root + feed.path("atom")},
    )
    ET.SubElement(
        node, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": root + feed.page}
    )
    _text(node, f"{{{ATOM}}}generator", GENERATOR)
    for entry in items:
        element = ET.SubElement(node, f"{{{ATOM}}}entry")
        if entry.language:
            element.set(XML_LANG, entry.language)
        _text(element, f"{{{ATOM}}}id", entry.id)
        _text(element, f"{{{ATOM}}}title", entry.title)
        _text(element, f"{{{ATOM}}}published", entry.published)
        _text(element, f"{{{ATOM}}}updated", entry.updated)
        entry_author = ET.SubElement(element, f"{{{ATOM}}}author")
        _text(entry_author, f"{{{ATOM}}}name", entry.author)
        ET.SubElement(
            element,
            f"{{{ATOM}}}link",
            {"rel": "alternate", "type": "text/html", "href": entry.url},
        )
        for image in entry.images:
            link = ET.SubElement(
                element,
                f"{{{ATOM}}}link",
                {
                    "rel": "enclosure",
                    "type": image["mime"],
                    "length": str(image["size"]),
                    "href": image["url"],
                },
            )
            if image["alt"]:
                link.set("title", image["alt"])
        for tag in entry.tags:
            ET.SubElement(element, f"{{{ATOM}}}category", {"term": tag})
        _text(element, f"{{{ATOM}}}summary", _shorten(entry.text, 300))
        _text(element, f"{{{ATOM}}}content", entry.html).set("type", "html")
    return _xml(node)


def json_feed(feed: Feed, items: list[FeedItem], *, root: str, language: str, city: str) -> bytes:
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": root + feed.page,
        "feed_url": root + feed.path("json"),
        "description": feed.description,
        "language": language,
        "authors": [{"name": city}],
        "items": [],
    }
    for entry in items:
        data: dict[str, Any] = {
            "id": entry.id,
            "url": entry.url,
            "title": entry.title,
            "content_html": entry.html,
            "content_text": entry.text,
            "date_published": entry.published,
            "date_modified": entry.updated,
            "authors": [{"name": entry.author}],
        }
        if entry.language:
            data["language"] = entry.language
        if entry.tags:
            data["tags"] = list(entry.tags)
        if entry.images:
            data["image"] = entry.images[0]["url"]
            data["attachments"] = [
                {
                    "url": image["url"],
                    "mime_type": image["mime"],
                    "size_in_bytes": image["size"],
                    **({"title": image["alt"]} if image["alt"] else {}),
                }
                for image in entry.images
            ]
        document["items"].append(data)
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_feeds(files: dict[str, bytes], site_dir: Path) -> None:
    for relative, content in files.items():
        target = site_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _plain(view: Any) -> str:
    from ..clean.html import html_to_text

    parts = [view.post.content_warning, view.post.title, html_to_text(view.post.text_html)]
    return "\n\n".join(p for p in parts if p).strip()


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = value
    return element


def _rfc822(value: str) -> str:
    return format_datetime(parse_time(value), usegmt=True)


def _xml(element: ET.Element) -> bytes:
    ET.indent(element)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"
