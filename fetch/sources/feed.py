"""Websites: a city's own news feed in RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1.

Formats: RSS 2.0 https://www.rssboard.org/rss-specification, RSS 1.0
https://web.resource.org/rss/1.0/spec, Atom 1.0 https://www.rfc-editor.org/rfc/rfc4287, JSON
Feed https://www.jsonfeed.org/version/1.1/. XML feeds are read with feedparser
(https://feedparser.readthedocs.io/), which also reads the Atom 0.3 some publishers still serve;
feedparser 6 does not read JSON Feed, so that is read here with ``json``.

Where the feed is fetched: an account names its feed with ``url``. Its ``api_base`` is the
origin of that URL (``https://www.musterstadt.de``) and the request goes to ``api_base`` plus
the URL's path and query, which is the URL itself unless ``api_base`` is set in the config (a
mirror, or the demo server on 127.0.0.1). Links in the feed are always resolved against the
configured ``url``, never against where the bytes came from, so a demo or a mirror archives
exactly the links the city's website publishes.

- Conditional GET: the ``ETag`` and ``Last-Modified`` of the last answer are sent back as
  ``If-None-Match`` / ``If-Modified-Since``; a ``304`` means nothing is new (one request, no
  byte written).
- An item's id is its ``guid``/``id``, else its link, else a hash of title and date.
- Dates: RFC 822 and ISO 8601 as the formats prescribe, and what German CMSs write instead
  (``Mo, 03 Jun 2026 08:00:00 +0200``, ``03.06.2026``, ``3. Juni 2026``; without a zone they
  mean Berlin time). An item whose date cannot be read gets the time it was first seen (or the
  feed's own date), kept in the state so that it does not move on the next run.
- Relative links and image addresses are resolved against the entry's ``xml:base``, its link
  or the feed's link; text is sanitized (``fetch.clean.html``). Images come from enclosures,
  ``media:content``/``media:thumbnail``, JSON Feed ``image``/``attachments`` and ``<img>`` in
  the text, and are re-hosted like every other image.
- An item that drops off the end of a feed is not deleted: feeds are a window, not a list.
- An HTML page (or anything else that is not a feed) is a ``PayloadError``, never zero posts.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser  # type: ignore[import-untyped]
from bs4 import BeautifulSoup
from dateutil import parser as date_parser

from ..clean.html import html_to_text, linkify_text, sanitize_html
from ..clean.links import clean_url
from ..errors import PayloadError
from ..model import Media, MediaKind, Post, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Source

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
# Dates without a zone in a German city's feed are local time.
LOCAL_ZONE = ZoneInfo("Europe/Berlin")
JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")
MAX_IMAGES = 10  # per item; a gallery page pasted into a feed is not a post
# Counters that change on every visit and would rewrite every raw file on every run
# (comments: https://web.resource.org/rss/1.0/modules/slash/, Media RSS statistics).
_VOLATILE_KEYS = frozenset(
    {"slash_comments", "thr_total", "media_statistics", "media_starrating", "media_community"}
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_LOOKS_LIKE_HTML = re.compile(r"<(p|br|a|img|div|em|strong|b|i|ul|ol|li|h[1-6])\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^>]*)?/?>")
_CDATA = re.compile(r"^\s*<!\[CDATA\[(.*)\]\]>\s*$", re.S)


class FeedSource(Source):
    name: ClassVar[str] = "feed"
    label: ClassVar[str] = "Website"
    docs: ClassVar[str] = "plattformen/website.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "url",
            "the address of the website's RSS, Atom or JSON feed",
            example="https://www.musterstadt.de/rathaus/aktuelles.rss",
        ),
    )

    def api_base(self, params: dict[str, str]) -> str:
        """The origin of the feed's URL; the config may point ``api_base`` elsewhere."""
        url = params.get("url", "")
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
        return url  # not an http(s) URL: the config check names it

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        state = context.state
        url = feed_request_url(account)
        shown = context.http.redact(url)
        headers = {"Accept": ACCEPT}
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("last_modified"):
            headers["If-Modified-Since"] = str(state["last_modified"])
        response = context.http.get(url, headers=headers, account=account.key, ok=(304,))
        if response.status_code == 304:
            context.log.info("%s: feed not modified since the last run", account.key)
            return
        document = parse_document(
            response.content,
            response.headers.get("content-type", ""),
            account.params["url"],
            account=account.key,
            shown_url=shown,
        )
        if document.warning:
            context.log.warning("%s: %s (%s)", account.key, document.warning, shown)
        first_seen: dict[str, str] = dict(state.get("first_seen") or {})
        now = normalize_time(datetime.now(UTC))
        seen: set[str] = set()
        for entry in document.entries:
            raw: dict[str, Any] = {"feed": document.feed, "entry": entry}
            try:
                native_id = entry_native_id(raw)
                if native_id in seen:
                    context.log.warning("%s: skipped a repeated item id %s", account.key, native_id)
                    continue
                seen.add(native_id)
                if entry_date(raw) is None:
                    # No readable date: remember when the item was first seen, so it keeps the
                    # same place in the timeline however often the feed is rebuilt.
                    if native_id not in first_seen:
                        first_seen[native_id] = document.updated or now
                    raw["first_seen"] = first_seen[native_id]
                yield Fetched(to_post(raw, account), raw)
            except (KeyError, TypeError, ValueError) as exc:
                context.log.warning("%s: skipped a malformed feed item (%s)", account.key, exc)
        if first_seen:
            state["first_seen"] = first_seen
        # A leniently read (broken) feed is fetched in full next time instead of answered 304.
        for header, key in (("etag", "etag"), ("last-modified", "last_modified")):
            value = response.headers.get(header)
            if value and not document.warning:
                state[key] = value
            else:
                state.pop(key, None)


def feed_request_url(account: AccountConfig) -> str:
    """``api_base`` plus the path and query of the configured feed URL."""
    parts = urlsplit(account.params["url"])
    path = parts.path or "/"
    return account.api_base.rstrip("/") + path + (f"?{parts.query}" if parts.query else "")


# ---------------------------------------------------------------------------------------------
# Reading a feed document (pure)


class FeedDocument:
    """A parsed feed: feed-level facts and its entries as JSON-able dicts."""

    def __init__(
        self,
        feed: dict[str, Any],
        entries: list[dict[str, Any]],
        warning: str = "",
        *,
        updated: str = "",
    ) -> None:
        self.feed = feed
        self.entries = entries
        self.warning = warning  # set when the feed was read leniently
        self.updated = updated  # the feed's own date (ISO, UTC), if it gives one


def parse_document(
    body: bytes, content_type: str, feed_url: str, *, account: str = "", shown_url: str = ""
) -> FeedDocument:
    """Parse an RSS, Atom or JSON feed; anything else raises ``PayloadError``."""
    if not body.strip():
        raise PayloadError("the feed answered with an empty body", account=account, url=shown_url)
    if "json" in content_type.lower() or body.lstrip()[:1] == b"{":
        return parse_json_feed(body, feed_url, account=account, shown_url=shown_url)
    return parse_xml_feed(body, content_type, feed_url, account=account, shown_url=shown_url)


def parse_xml_feed(
    body: bytes, content_type: str, feed_url: str, *, account: str = "", shown_url: str = ""
) -> FeedDocument:
    parsed = feedparser.parse(
        body,
        # No content-location: feedparser would resolve every guid against it, as if it were a
        # URL; relative links are resolved in to_post instead.
        response_headers={"content-type": content_type or "application/xml"},
        resolve_relative_uris=False,  # done in to_post, from the raw values kept here
        sanitize_html=False,  # done in to_post with the project's own allowlist
    )
    version = str(parsed.get("version") or "")
    entries = [jsonable_entry(entry) for entry in parsed.get("entries") or []]
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    # feedparser flags any feed not served as XML; that is a server's habit, not a broken feed.
    broken = problem is not None and not isinstance(
        problem, feedparser.NonXMLContentType | feedparser.CharacterEncodingOverride
    )
    if not entries and (broken or not version):
        if _is_html_page(body, content_type) and not version:
            hint = _autodiscovered_feed(body, feed_url)
            message = "the URL answered with an HTML page, not a feed"
            if hint:
                message += f"; the page names a feed at {hint}: set that as url"
            raise PayloadError(message, account=account, url=shown_url)
        raise PayloadError(f"not a readable feed ({problem})", account=account, url=shown_url)
    info = dict(parsed.get("feed") or {})  # a plain dict: no feedparser key aliases
    # Only what stays the same from one build of the feed to the next goes into each item's raw
    # payload; the feed's own date is kept apart (a fallback for items without a date).
    feed: dict[str, Any] = {
        "format": version or "xml",
        "url": feed_url,
        "title": str(info.get("title") or ""),
        "link": _web_link(info),
        "language": str(info.get("language") or ""),
    }
    updated = parse_feed_date(str(info.get("updated") or info.get("published") or ""))
    warning = f"the feed is not well-formed ({problem}); read leniently" if broken else ""
    return FeedDocument(feed, entries, warning, updated=normalize_time(updated) if updated else "")


def _web_link(info: dict[str, Any]) -> str:
    """The website a feed belongs to: its alternate link, never a ``tag:`` id or self link."""
    candidates = [str(info.get("link") or "")]
    for link in info.get("links") or []:
        if link.get("rel", "alternate") == "alternate":
            candidates.append(str(link.get("href") or ""))
    return next((c for c in candidates if urlsplit(c).scheme in ("http", "https")), "")


def parse_json_feed(
    body: bytes, feed_url: str, *, account: str = "", shown_url: str = ""
) -> FeedDocument:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"malformed JSON Feed ({exc})", account=account, url=shown_url) from exc
    if not isinstance(data, dict) or not JSON_FEED_VERSION.match(str(data.get("version", ""))):
        raise PayloadError(
            "expected a JSON Feed (a 'version' of https://jsonfeed.org/version/1.1)",
            account=account,
            url=shown_url,
        )
    items = data.get("items")
    if not isinstance(items, list):
        raise PayloadError("the JSON Feed has no list of items", account=account, url=shown_url)
    feed: dict[str, Any] = {
        "format": "json" + str(data["version"]).rstrip("/").rsplit("/", 1)[-1].replace(".", ""),
        "url": feed_url,
        "title": str(data.get("title") or ""),
        "link": str(data.get("home_page_url") or ""),
        "language": str(data.get("language") or ""),
    }
    entries = [item for item in items if isinstance(item, dict)]
    newest = max(
        (d for d in (parse_feed_date(str(i.get("date_modified") or "")) for i in entries) if d),
        default=None,
    )
    return FeedDocument(feed, entries, updated=normalize_time(newest) if newest else "")


def jsonable_entry(entry: Any) -> dict[str, Any]:
    """A feedparser entry as plain JSON data: parsed-time tuples (derived from the strings kept
    beside them) and counters that change on every visit are left out."""
    result: dict[str, Any] = {}
    for key, value in dict(entry).items():
        if key.endswith("_parsed") or key in _VOLATILE_KEYS:
            continue
        converted = _jsonable(value)
        if converted is not None:
            result[str(key)] = converted
    return result


def _jsonable(value: Any) -> Any:
    """Plain JSON data; anything else (time tuples, bytes) becomes None and is left out."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        pairs = ((str(k), _jsonable(v)) for k, v in value.items() if not str(k).endswith("_parsed"))
        return {k: v for k, v in pairs if v is not None}
    if isinstance(value, list | tuple):
        return [v for v in (_jsonable(item) for item in value) if v is not None]
    return None


def _is_html_page(body: bytes, content_type: str) -> bool:
    head = body[:2048].lower()
    return "html" in content_type.lower() or b"<html" in head or b"<!doctype html" in head


def _autodiscovered_feed(body: bytes, base: str) -> str:
    """The first feed a page announces with ``<link rel="alternate" type="...">``."""
    soup = BeautifulSoup(body, "html.parser")
    for link in soup.find_all("link", href=True):
        rel: list[str] = list(link.get_attribute_list("rel"))
        kind = str(link.get("type") or "").lower()
        if "alternate" in rel and any(t in kind for t in ("rss", "atom", "feed+json")):
            return urljoin(base, str(link["href"]))
    return ""


# ---------------------------------------------------------------------------------------------
# Dates

_DE_MONTHS = {
    "januar": 1, "jan": 1, "jänner": 1, "februar": 2, "feb": 2, "märz": 3, "maerz": 3,
    "mär": 3, "mrz": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6, "jun": 6,
    "juli": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "dezember": 12, "dez": 12,
    "dec": 12,
}  # fmt: skip
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZONES = {"MEZ": "+0100", "MESZ": "+0200", "CET": "+0100", "CEST": "+0200"}
_WEEKDAY = re.compile(r"^\s*[A-Za-zÄÖÜäöü]{2,10}\.?,\s*")
_RFC822_GERMAN = re.compile(
    r"^(\d{1,2})\.?\s+([A-Za-zÄÖÜäöü]{3,9})\.?\s+(\d{2,4})\s+(\d{1,2}:\d{2}(?::\d{2})?)\s*(.*)$"
)
_NUMERIC = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[,\s]+(?:um\s+)?(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    r"(?:\s*Uhr)?)?$",
    re.I,
)
_WORDED = re.compile(
    r"^(\d{1,2})\.\s*([A-Za-zÄÖÜäöü]{3,9})\.?\s+(\d{4})(?:[,\s]+(?:um\s+)?(\d{1,2})[:.](\d{2})"
    r"(?:[:.](\d{2}))?(?:\s*Uhr)?)?$",
    re.I,
)


def parse_feed_date(value: str) -> datetime | None:
    """A feed's date in any of the forms found in German feeds, or None when unreadable."""
    text = " ".join(value.split())
    if not text:
        return None
    moment = _parse_iso(text) or _parse_rfc822(text) or _parse_german(text)
    if moment is None and re.search(r"\b(19|20)\d\d\b", text) and re.search(r"[A-Za-z]", text):
        try:
            moment = date_parser.parse(text)
        except (ValueError, OverflowError):
            moment = None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    if not 1990 <= moment.year <= 2100:
        return None
    return moment


def _parse_iso(text: str) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date_parser.isoparse(text.replace(" ", "T", 1) if " " in text else text)
    except (ValueError, OverflowError):
        return None


def _parse_rfc822(text: str) -> datetime | None:
    rest = _WEEKDAY.sub("", text)
    match = _RFC822_GERMAN.match(rest)
    if not match:
        return None
    day, month_name, year, clock, zone = match.groups()
    month = _DE_MONTHS.get(month_name.lower())
    if month is None:
        return None
    zone = _ZONES.get(zone.strip().upper(), zone.strip()) or "+0000"
    normalized = f"{day} {_EN_MONTHS[month - 1]} {year} {clock} {zone}"
    try:
        moment = email.utils.parsedate_to_datetime(normalized)
    except (TypeError, ValueError, IndexError):
        return None
    # parsedate marks "-0000" and missing zones as naive: RFC 822 means UTC then.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_german(text: str) -> datetime | None:
    text = _WEEKDAY.sub("", text)
    match = _NUMERIC.match(text)
    if match:
        day, month, year = int(match[1]), int(match[2]), int(match[3])
    else:
        match = _WORDED.match(text)
        if not match:
            return None
        found = _DE_MONTHS.get(match[2].lower())
        if found is None:
            return None
        day, month, year = int(match[1]), found, int(match[3])
    hour, minute, second = (int(match[i]) if match[i] else 0 for i in (4, 5, 6))
    try:
        return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 (local, see above)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Conversion (pure)


def _entry(raw: dict[str, Any]) -> dict[str, Any]:
    """The entry in feedparser's shape, whichever format it came in."""
    entry: dict[str, Any] = raw["entry"]
    if str((raw.get("feed") or {}).get("format", "")).startswith("json"):
        return _from_json_feed_item(entry, raw.get("feed") or {})
    return entry


def _from_json_feed_item(item: dict[str, Any], feed: dict[str, Any]) -> dict[str, Any]:
    base = str(feed.get("url") or "")
    content = []
    if item.get("content_html"):
        content.append({"type": "text/html", "value": str(item["content_html"]), "base": base})
    elif item.get("content_text"):
        content.append({"type": "text/plain", "value": str(item["content_text"]), "base": base})
    links = [
        {
            "rel": "enclosure",
            "href": str(attachment.get("url")),
            "type": str(attachment.get("mime_type") or ""),
            "title": str(attachment.get("title") or ""),
        }
        for attachment in item.get("attachments") or []
        if isinstance(attachment, dict) and attachment.get("url")
    ]
    images = [
        {"url": str(item[key]), "alt": ""} for key in ("image", "banner_image") if item.get(key)
    ]
    link = item.get("url") or item.get("external_url") or ""
    return {
        "id": str(item["id"]) if item.get("id") not in (None, "") else "",
        "link": str(link),
        "title": str(item.get("title") or ""),
        "title_detail": {"type": "text/plain"},
        "published": str(item.get("date_published") or ""),
        "updated": str(item.get("date_modified") or ""),
        "content": content,
        "summary_detail": {"type": "text/plain", "value": str(item.get("summary") or "")},
        "links": links,
        "images": images,
        "tags": [{"term": str(tag)} for tag in item.get("tags") or []],
        "language": str(item.get("language") or ""),
    }


def entry_native_id(raw: dict[str, Any]) -> str:
    """The item's guid/id, else its link, else a hash of title and date."""
    entry = _entry(raw)
    guid = str(entry.get("id") or "").strip()
    if guid:
        return guid
    link = str(entry.get("link") or "").strip()
    if link:
        return _resolve(_feed_base(raw.get("feed") or {}), link) or link
    title = str(entry.get("title") or "")
    date = str(entry.get("published") or entry.get("updated") or "")
    if not title and not date:
        raise ValueError("item has neither id, link, title nor date")
    return "h-" + hashlib.sha256(f"{title}\n{date}".encode()).hexdigest()[:24]


def entry_date(raw: dict[str, Any]) -> datetime | None:
    entry = _entry(raw)
    return parse_feed_date(str(entry.get("published") or "")) or parse_feed_date(
        str(entry.get("updated") or "")
    )


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one feed item (``{"feed": ..., "entry": ..., "first_seen": ...}``). Pure."""
    feed: dict[str, Any] = raw.get("feed") or {}
    entry = _entry(raw)
    native_id = entry_native_id(raw)
    feed_base = _feed_base(feed)
    link = _resolve(feed_base, str(entry.get("link") or ""))
    published_at = entry_date(raw)
    if published_at is None:
        if not raw.get("first_seen"):
            raise ValueError(f"item {native_id} has no readable date")
        published = normalize_time(str(raw["first_seen"]))
    else:
        published = normalize_time(published_at)
    edited = None
    updated_at = parse_feed_date(str(entry.get("updated") or ""))
    # A minute's difference is how CMSs write "published" and "saved"; later is an edit.
    if (
        updated_at is not None
        and published_at is not None
        and (updated_at - published_at).total_seconds() > 60
    ):
        edited = normalize_time(updated_at)
    text_base = link or feed_base
    text_html, images_in_text = _text(entry, text_base)
    title = str(entry.get("title") or "").strip()
    if str((entry.get("title_detail") or {}).get("type", "")) in _HTML_TYPES:
        title = html_to_text(title)
    categories = [str(t.get("term")) for t in entry.get("tags") or [] if t.get("term")]
    language = str(entry.get("language") or feed.get("language") or "").strip()
    return Post(
        id=post_id(FeedSource.name, account.key, native_id),
        platform=FeedSource.name,
        account=account.key,
        native_id=native_id,
        url=clean_url(link or feed_base),
        published=published,
        edited=edited,
        title=" ".join(title.split()),
        text_html=text_html,
        language=language.split("-")[0].lower() or None,
        media=to_media(entry, text_base, images_in_text),
        extra={"categories": categories} if categories else {},
    )


def _feed_base(feed: dict[str, Any]) -> str:
    """What relative links in a feed are relative to: its website, else its own URL."""
    return str(feed.get("link") or feed.get("url") or "")


def _resolve(base: str, url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    resolved = urljoin(base, url) if base else url
    return resolved if urlsplit(resolved).scheme in ("http", "https") else ""


def _text(entry: dict[str, Any], base: str) -> tuple[str, list[dict[str, str]]]:
    """The item's text as safe HTML, and the images it embeds (to re-host them)."""
    chosen: dict[str, Any] | None = None
    for content in entry.get("content") or []:
        has_text = bool(str(content.get("value") or "").strip())
        if has_text and (chosen is None or str(content.get("type")) in _HTML_TYPES):
            chosen = content
    if chosen is None:
        summary = entry.get("summary_detail") or {}
        value = summary.get("value") or entry.get("summary") or ""
        chosen = {**summary, "value": value} if value else None
    if chosen is None:
        return "", []
    value = str(chosen.get("value") or "")
    kind = str(chosen.get("type") or "text/html")
    cdata = _CDATA.match(value)
    if cdata:  # Atom 0.3 "escaped" content that was wrapped in CDATA before escaping
        value = cdata.group(1)
    if kind in _HTML_TYPES and not _ANY_TAG.search(value):
        # An RSS description is HTML by the spec, but many CMSs put plain text there: without
        # a single tag its line breaks and bare URLs are what the editor meant.
        return linkify_text(unescape(value)), []
    if kind not in _HTML_TYPES and not _LOOKS_LIKE_HTML.search(value):
        return linkify_text(value), []
    content_base = _resolve(base, str(chosen.get("base") or "")) or base
    return _resolve_html(value, content_base)


def _resolve_html(html: str, base: str) -> tuple[str, list[dict[str, str]]]:
    soup = BeautifulSoup(html, "html.parser")
    images: list[dict[str, str]] = []
    for link in soup.find_all("a", href=True):
        link["href"] = _resolve(base, str(link["href"])) or str(link["href"])
    for image in soup.find_all("img"):
        source = _resolve(base, str(image.get("src") or ""))
        tiny = any(
            str(image.get(side, "")).strip() in ("0", "1", "2") for side in ("width", "height")
        )
        if source and not tiny:
            images.append({"url": source, "alt": str(image.get("alt") or "").strip()})
        image.decompose()
    for link in soup.find_all("a"):
        if not link.get_text(strip=True):  # it only wrapped an image, now moved to the media
            link.decompose()
    return _tidy(sanitize_html(str(soup))), images


_LEADING_BREAKS = re.compile(r"(<p[^>]*>)(?:\s|<br\s*/?>)+")
_TRAILING_BREAKS = re.compile(r"(?:\s|<br\s*/?>)+(</p>)")
_EMPTY_PARAGRAPH = re.compile(r"<p[^>]*>\s*</p>")
_STARTS_WITH_BLOCK = re.compile(r"^<(p|h[2-6]|ul|ol|blockquote|pre)\b")


def _tidy(html: str) -> str:
    """Drop the line breaks an image left behind, and give loose text a paragraph."""
    html = _LEADING_BREAKS.sub(r"\1", html.strip())
    html = _TRAILING_BREAKS.sub(r"\1", html)
    html = _EMPTY_PARAGRAPH.sub("", html).strip()
    if html and not _STARTS_WITH_BLOCK.match(html):
        html = f"<p>{html}</p>"
    return html


def _kind(mime: str, medium: str = "") -> MediaKind | None:
    mime, medium = mime.lower(), medium.lower()
    if medium == "image" or mime.startswith("image/"):
        return "image"
    if medium == "video" or mime.startswith("video/"):
        return "video"
    if medium == "audio" or mime.startswith("audio/"):
        return "audio"
    return None


def to_media(
    entry: dict[str, Any], base: str, images_in_text: list[dict[str, str]] | None = None
) -> tuple[Media, ...]:
    """Enclosures, Media RSS, JSON Feed images and the text's own images, each once."""
    found: list[Media] = []
    seen: set[str] = set()
    thumbnails = [
        _resolve(base, str(t.get("url") or "")) for t in entry.get("media_thumbnail") or []
    ]
    poster = next((t for t in thumbnails if t), "")

    def add(kind: MediaKind, url: str, alt: str = "", size: tuple[int | None, ...] = ()) -> None:
        url = _resolve(base, url)
        if not url or url in seen or len(found) >= MAX_IMAGES:
            return
        seen.add(url)
        if kind == "image":
            width, height = (*size, None, None)[:2]
            found.append(Media(kind="image", alt=alt, source=url, width=width, height=height))
        else:  # not re-hosted: the site shows the poster, if any, and links out
            found.append(Media(kind=kind, alt=alt, source=poster, url=clean_url(url)))

    for image in entry.get("images") or []:  # JSON Feed's main image comes first
        add("image", str(image.get("url") or ""), str(image.get("alt") or ""))
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure":
            kind = _kind(str(link.get("type") or ""))
            if kind:
                add(kind, str(link.get("href") or ""), str(link.get("title") or "").strip())
    for item in entry.get("media_content") or []:
        kind = _kind(str(item.get("type") or ""), str(item.get("medium") or ""))
        if kind:
            add(kind, str(item.get("url") or ""), size=_size(item))
    for image in images_in_text or []:
        add("image", image["url"], image.get("alt", ""))
    if not any(m.kind == "image" or m.source for m in found):
        for item in entry.get("media_thumbnail") or []:
            add("image", str(item.get("url") or ""), size=_size(item))
            break
    # Images first, then what links out (video, audio): the order a reader expects.
    return tuple(sorted(found, key=lambda media: media.kind != "image"))


def _size(item: dict[str, Any]) -> tuple[int | None, int | None]:
    def number(key: str) -> int | None:
        try:
            return int(str(item.get(key)))
        except ValueError:
            return None

    return number("width"), number("height")
