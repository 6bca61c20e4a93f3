"""Threads: the posts of one Threads profile, through the Threads API.

API reference: https://developers.facebook.com/documentation/threads/retrieve-and-discover-posts/retrieve-posts
and https://developers.facebook.com/documentation/threads/reference/user (fields of
``/me/threads``), reposts https://developers.facebook.com/documentation/threads/posts/reposts and
quotes https://developers.facebook.com/documentation/threads/posts/quote-posts. The API lives on
``graph.threads.net`` (``graph.threads.com`` answers the same). Errors, paging, usage headers
and token checks are shared with Facebook and Instagram in ``graph.py``.

- The token is a long-lived Threads user token with ``threads_basic`` (60 days). The daily
  token check refreshes it (``refresh_access_token``, ``th_refresh_token``), which extends the
  same token by another 60 days.
- ``/me/threads`` lists the profile's own top-level posts, newest first: TEXT_POST, IMAGE,
  VIDEO, CAROUSEL_ALBUM, AUDIO and reposts (REPOST_FACADE). Replies are not on this edge.
- ``children`` and ``quoted_post``/``reposted_post`` come as bare ids. For a new post, the
  fetch asks for each of them once (``GET /{id}``) and puts the answer where a nested field
  would have been, so the raw payload holds everything ``to_post`` needs. A referenced post the
  token may not read stays a bare id: the quote is then shown as not retrievable.
- Text is plain: links are cleaned, hashtags and @names become plain spans that link nowhere.
  Videos are not re-hosted: their ``thumbnail_url`` becomes a poster linking to the post.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..clean.html import linkify_text
from ..clean.links import clean_url
from ..errors import RateLimitError, SourceError, TransientError
from ..model import LinkCard, Media, Origin, Post, Quote, post_id
from ..times import normalize_time
from . import graph
from .base import AccountConfig, FetchContext, Fetched, Param, Secret, Source

PLATFORM = graph.Platform(name="threads", label="Threads", permissions="threads_basic")
THREADS_PATH = "/{version}/me/threads"
OBJECT_PATH = "/{version}/{id}"
REFRESH_PATH = "/refresh_access_token"  # unversioned, as documented
REFRESH_GRANT = "th_refresh_token"
FIELDS = (
    "id,media_product_type,media_type,media_url,permalink,username,text,timestamp,shortcode,"
    "thumbnail_url,children,is_quote_post,quoted_post,reposted_post,alt_text,link_attachment_url"
)
CHILD_FIELDS = "id,media_type,media_url,thumbnail_url,alt_text"
REFERENCED_FIELDS = (
    "id,media_type,media_url,permalink,username,text,timestamp,thumbnail_url,alt_text"
)
NOT_RETRIEVABLE = "nicht abrufbar"
_PROFILE = re.compile(r"^/@([A-Za-z0-9_.]+)/")


class ThreadsSource(Source):
    name: ClassVar[str] = "threads"
    label: ClassVar[str] = "Threads"
    docs: ClassVar[str] = "plattformen/threads.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "user", "the Threads user name, without @ (shown on the site)", example="musterstadt"
        ),
    )
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("token", "a long-lived Threads access token with threads_basic"),
    )
    default_api_base: ClassVar[str] = "https://graph.threads.net"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        graph.check_token(
            context,
            PLATFORM,
            graph.probe_refresh(account.api_base + REFRESH_PATH, REFRESH_GRANT),
        )
        url = account.api_base + THREADS_PATH.format(version=graph.THREADS_API_VERSION)
        params = {"fields": FIELDS, "limit": graph.PAGE_LIMIT}
        for raw in graph.walk_new_items(context, PLATFORM, url, params, time_field="timestamp"):
            raw = self._expand(context, raw)
            try:
                yield Fetched(to_post(raw, account), raw)
            except (KeyError, TypeError, ValueError) as exc:
                context.log.warning(
                    "%s: skipped malformed post %s (%s)", account.key, raw.get("id"), exc
                )

    def _expand(self, context: FetchContext, raw: dict[str, Any]) -> dict[str, Any]:
        """The post with its carousel children and referenced posts read in full."""
        expanded = dict(raw)
        children = (raw.get("children") or {}).get("data")
        if isinstance(children, list):
            expanded["children"] = {
                **raw["children"],
                "data": [self._read(context, child, CHILD_FIELDS) for child in children],
            }
        for key in ("quoted_post", "reposted_post"):
            if isinstance(raw.get(key), dict):
                expanded[key] = self._read(context, raw[key], REFERENCED_FIELDS)
        return expanded

    def _read(self, context: FetchContext, ref: Any, fields: str) -> Any:
        if not isinstance(ref, dict) or not ref.get("id") or ref.get("media_type"):
            return ref
        url = context.account.api_base + OBJECT_PATH.format(
            version=graph.THREADS_API_VERSION, id=ref["id"]
        )
        try:
            data, _response = graph.request_json(context, PLATFORM, url, {"fields": fields})
        except (RateLimitError, TransientError):
            raise  # the whole pass is retried next run; never archive a half-read post
        except SourceError as exc:
            context.log.info("%s: post %s is not readable: %s", context.account.key, ref["id"], exc)
            return ref
        return data if isinstance(data, dict) and data.get("id") else ref


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one Threads media object (children and references expanded) into a Post."""
    native_id = str(raw["id"])
    url = _permalink(raw)
    media_type = str(raw.get("media_type") or "").upper()
    shown = raw
    repost_of = None
    if media_type == "REPOST_FACADE":
        original = raw.get("reposted_post") if isinstance(raw.get("reposted_post"), dict) else {}
        repost_of = _origin(original or {}, fallback_url=url)
        shown = original if original and original.get("media_type") else {}
    text = str(shown.get("text") or "")
    shown_url = _permalink(shown) if shown is not raw and shown.get("permalink") else url
    card = None
    if shown.get("link_attachment_url"):
        link = clean_url(str(shown["link_attachment_url"]))
        card = LinkCard(url=link) if link.startswith(("https://", "http://")) else None
    extra: dict[str, Any] = {}
    for key in ("media_type", "shortcode"):
        if raw.get(key):
            extra[key] = str(raw[key])
    return Post(
        id=post_id(PLATFORM.name, account.key, native_id),
        platform=PLATFORM.name,
        account=account.key,
        native_id=native_id,
        url=url,
        published=normalize_time(str(raw["timestamp"])),
        text_html=_html(text),
        media=to_media(shown, shown_url),
        card=card,
        repost_of=repost_of,
        quote=to_quote(raw.get("quoted_post")) if raw.get("is_quote_post") else None,
        hashtags=graph.hashtags(text),
        extra=extra,
    )


def to_media(item: dict[str, Any], post_url: str) -> tuple[Media, ...]:
    media_type = str(item.get("media_type") or "").upper()
    alt = str(item.get("alt_text") or "").strip()
    if media_type == "IMAGE":
        return (Media(kind="image", alt=alt, source=str(item.get("media_url") or "")),)
    if media_type == "VIDEO":
        poster = str(item.get("thumbnail_url") or "")
        return (Media(kind="video", alt=alt, source=poster, url=post_url),)
    if media_type == "AUDIO":
        return (Media(kind="audio", alt=alt, url=post_url),)
    if media_type == "CAROUSEL_ALBUM":
        children = (item.get("children") or {}).get("data") or []
        return tuple(
            m
            for child in children
            if isinstance(child, dict)
            # A child the fetch could not read stays a bare id: a placeholder, not a gap.
            for m in (to_media(child, post_url) if child.get("media_type") else (Media("image"),))
        )
    return ()


def to_quote(quoted: Any) -> Quote:
    if not isinstance(quoted, dict) or not quoted.get("permalink"):
        return Quote(origin=Origin(name="Threads"), unavailable=NOT_RETRIEVABLE)
    return Quote(
        origin=_origin(quoted, fallback_url=""),
        text_html=_html(str(quoted.get("text") or "")),
        published=normalize_time(str(quoted["timestamp"])) if quoted.get("timestamp") else None,
    )


def _origin(post: dict[str, Any], *, fallback_url: str) -> Origin:
    url = _permalink(post) if post.get("permalink") else fallback_url
    user = str(post.get("username") or "")
    if not user:
        match = _PROFILE.match(_path(url))
        user = match.group(1) if match else ""
    return Origin(name=user or "Threads", handle=f"@{user}" if user else "", url=url)


def _html(text: str) -> str:
    return graph.mark_mentions(linkify_text(text)) if text.strip() else ""


def _permalink(raw: dict[str, Any]) -> str:
    if raw.get("permalink"):
        return graph.strip_query(clean_url(str(raw["permalink"])))
    return "https://www.threads.net/"


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""
