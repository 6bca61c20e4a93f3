"""Facebook: the published posts of one Facebook Page, through the Graph API.

API reference: https://developers.facebook.com/docs/graph-api/reference/page/published_posts/
(the Page's own published posts, newest first), post fields in
https://developers.facebook.com/docs/graph-api/reference/pagepost/ and attachments in
https://developers.facebook.com/docs/graph-api/reference/story-attachment/. Errors, paging,
usage headers and token checks are shared with Instagram and Threads in ``graph.py``.

- The token is a Page access token (from a long-lived user token, it does not expire) or a
  system-user token of the city's Business Manager. It needs ``pages_read_engagement`` and
  ``pages_show_list``; the daily token check reads its expiry from ``/debug_token``.
- ``message`` is plain text: it becomes HTML through ``linkify_text``, every link cleaned.
  ``message_tags`` is not requested: tags of private persons carry their user ids, and the
  tagged names are already in the text. We never link to profiles.
- Attachments: a photo or video becomes a media item (videos as a poster linking to the post),
  an album (``media_type`` "album") its ``subattachments``, a link or event a link card whose
  URL is ``unshimmed_url`` (the target without Facebook's ``l.facebook.com`` redirector),
  cleaned again.
- Attachments give photos at most 720 px wide and without alt text. For a new post with photos
  the fetch asks once more, for all its photos in one request (``GET /?ids=...``, the Photo
  node: https://developers.facebook.com/docs/graph-api/reference/photo/), for ``images`` (the
  largest rendition becomes ``Media.source``) and ``alt_text_custom`` (the description the
  city wrote; Facebook's automatic ``alt_text`` is not used). The answer is kept in the raw
  payload as ``photo`` beside each attachment, so ``to_post`` stays pure. If that lookup is
  refused, the 720 px ``media.image.src`` is used. The signed ``scontent`` URLs expire within
  days: ``fetch.media`` downloads them when a post is first seen.
- ``updated_time`` also moves when someone comments, so it is not taken as an edit date.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, ClassVar

from ..clean.html import linkify_text
from ..clean.links import clean_url
from ..errors import RateLimitError, SourceError, TransientError
from ..model import LinkCard, Media, MediaKind, Post, post_id
from ..times import normalize_time
from . import graph
from .base import AccountConfig, FetchContext, Fetched, Param, Secret, Source

PLATFORM = graph.Platform(
    name="facebook",
    label="Facebook",
    permissions="pages_read_engagement, pages_show_list",
)
POSTS_PATH = "/{version}/{page_id}/published_posts"
ATTACHMENT_FIELDS = (
    "media_type,type,media,url,unshimmed_url,title,description,target,subattachments"
)
FIELDS = (
    "id,message,created_time,updated_time,permalink_url,status_type,full_picture,"
    f"attachments{{{ATTACHMENT_FIELDS}}}"
)
PHOTO_FIELDS = "images,alt_text_custom"
PHOTOS_PER_REQUEST = 50  # Graph's limit for ids in one multi-id request
_CARD_TYPES = frozenset({"link", "share", "event", "note", "native_templates"})


class FacebookSource(Source):
    name: ClassVar[str] = "facebook"
    label: ClassVar[str] = "Facebook"
    docs: ClassVar[str] = "plattformen/facebook.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param("page_id", "the numeric id of the Facebook Page", example="104857361234567"),
    )
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret(
            "token",
            "a Page access token or system-user token with pages_read_engagement",
        ),
    )
    default_api_base: ClassVar[str] = "https://graph.facebook.com"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        versioned = f"{account.api_base}/{graph.GRAPH_API_VERSION}"
        graph.check_token(context, PLATFORM, graph.probe_debug_token(versioned))
        url = account.api_base + POSTS_PATH.format(
            version=graph.GRAPH_API_VERSION, page_id=account.params["page_id"]
        )
        params = {"fields": FIELDS, "limit": graph.PAGE_LIMIT}
        for raw in graph.walk_new_items(context, PLATFORM, url, params, time_field="created_time"):
            raw = self._with_photos(context, raw, versioned)
            try:
                yield Fetched(to_post(raw, account), raw)
            except (KeyError, TypeError, ValueError) as exc:
                context.log.warning(
                    "%s: skipped malformed post %s (%s)", account.key, raw.get("id"), exc
                )

    def _with_photos(
        self, context: FetchContext, raw: dict[str, Any], versioned: str
    ) -> dict[str, Any]:
        """The post with each photo attachment's Photo node (sizes, alt text) beside it."""
        attachments = [a for a in _photo_attachments(raw) if not isinstance(a.get("photo"), dict)]
        ids = sorted({str(a["target"]["id"]) for a in attachments})
        if not ids:
            return raw
        found: dict[str, Any] = {}
        for start in range(0, len(ids), PHOTOS_PER_REQUEST):
            chunk = ids[start : start + PHOTOS_PER_REQUEST]
            try:
                data, _response = graph.request_json(
                    context,
                    PLATFORM,
                    f"{versioned}/",
                    {"ids": ",".join(chunk), "fields": PHOTO_FIELDS},
                )
            except (RateLimitError, TransientError):
                raise  # the pass is retried next run; never archive a half-read post
            except SourceError as exc:
                context.log.info(
                    "%s: photo details of post %s not readable, using the 720 px images: %s",
                    context.account.key,
                    raw.get("id"),
                    exc,
                )
                return raw
            if isinstance(data, dict):
                found.update(data)
        expanded = copy.deepcopy(raw)
        for attachment in _photo_attachments(expanded):
            photo = found.get(str(attachment["target"]["id"]))
            if isinstance(photo, dict):
                attachment["photo"] = photo
        return expanded


def _photo_attachments(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Every photo attachment and album sub-attachment that names its photo's id."""
    found: list[dict[str, Any]] = []
    for attachment in (raw.get("attachments") or {}).get("data") or []:
        if not isinstance(attachment, dict):
            continue
        subs = (attachment.get("subattachments") or {}).get("data") or []
        for item in [attachment, *subs]:
            target = item.get("target") if isinstance(item, dict) else None
            if (
                _media_kind(_kind(item)) == "image"
                and isinstance(target, dict)
                and target.get("id")
            ):
                found.append(item)
    return found


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one Graph API Page post into a Post. Pure: no I/O."""
    native_id = str(raw["id"])
    message = str(raw.get("message") or "")
    url = clean_url(str(raw.get("permalink_url") or "")) or _fallback_url(native_id)
    media: list[Media] = []
    card: LinkCard | None = None
    attachments = (raw.get("attachments") or {}).get("data") or []
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        kind = _kind(attachment)
        if kind == "album":
            subattachments = (attachment.get("subattachments") or {}).get("data") or []
            items = [to_media(sub, url) for sub in subattachments if isinstance(sub, dict)]
            media.extend(item for item in items if item is not None)
            if not subattachments and (cover := to_media(attachment, url)) is not None:
                media.append(cover)
        elif kind in _CARD_TYPES:
            card = card or to_card(attachment)
        elif (item := to_media(attachment, url)) is not None:
            media.append(item)
    if not attachments and raw.get("full_picture"):
        media.append(Media(kind="image", source=str(raw["full_picture"])))
    extra: dict[str, Any] = {}
    if raw.get("status_type"):
        extra["status_type"] = str(raw["status_type"])
    return Post(
        id=post_id(PLATFORM.name, account.key, native_id),
        platform=PLATFORM.name,
        account=account.key,
        native_id=native_id,
        url=url,
        published=normalize_time(str(raw["created_time"])),
        text_html=linkify_text(message) if message.strip() else "",
        media=tuple(media),
        card=card,
        hashtags=graph.hashtags(message),
        extra=extra,
    )


def _kind(attachment: dict[str, Any]) -> str:
    return str(attachment.get("media_type") or attachment.get("type") or "").lower()


def _media_kind(kind: str) -> MediaKind | None:
    if kind.startswith("photo") or kind == "image":
        return "image"
    if kind.startswith("animated_image"):
        return "gifv"
    if kind.startswith("video"):
        return "video"
    return None


def to_media(attachment: dict[str, Any], post_url: str) -> Media | None:
    """A photo or video attachment (or sub-attachment of an album) as a media item."""
    kind = _media_kind(_kind(attachment))
    image = (attachment.get("media") or {}).get("image") or {}
    if kind is None:
        if not image.get("src"):
            return None
        kind = "image"
    source = str(image.get("src") or "")
    width, height = _int(image.get("width")), _int(image.get("height"))
    if kind == "image":
        node = attachment.get("photo")
        photo: dict[str, Any] = node if isinstance(node, dict) else {}
        alt = str(photo.get("alt_text_custom") or "").strip()
        largest = _largest(photo.get("images"))
        if largest is not None:
            source = str(largest["source"])
            width, height = _int(largest.get("width")), _int(largest.get("height"))
        return Media(kind="image", alt=alt, source=source, width=width, height=height)
    # Videos are not re-hosted: the poster links to the video on Facebook.
    target = attachment.get("unshimmed_url") or attachment.get("url") or ""
    return Media(
        kind=kind,
        source=source,
        url=clean_url(str(target)) or post_url,
        width=width,
        height=height,
    )


def to_card(attachment: dict[str, Any]) -> LinkCard | None:
    """A shared link or event: its target without Facebook's redirector, cleaned."""
    target = attachment.get("unshimmed_url") or attachment.get("url") or ""
    if not target and isinstance(attachment.get("target"), dict):
        target = attachment["target"].get("url") or ""
    url = clean_url(str(target))
    if not url.startswith(("https://", "http://")):
        return None
    image_source = ((attachment.get("media") or {}).get("image") or {}).get("src")
    return LinkCard(
        url=url,
        title=str(attachment.get("title") or "").strip(),
        description=str(attachment.get("description") or "").strip(),
        image=Media(kind="image", source=str(image_source)) if image_source else None,
    )


def _largest(images: Any) -> dict[str, Any] | None:
    """The largest rendition in a Photo node's ``images`` (Graph lists it first; we check)."""
    candidates = [
        image for image in images or [] if isinstance(image, dict) and image.get("source")
    ]
    if not candidates:
        return None
    best: dict[str, Any] = max(
        candidates,
        key=lambda image: (_int(image.get("width")) or 0) * (_int(image.get("height")) or 0),
    )
    return best


def _fallback_url(native_id: str) -> str:
    page, _, post = native_id.partition("_")
    return f"https://www.facebook.com/{page}/posts/{post}" if post else "https://www.facebook.com/"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
