"""Instagram: the posts and reels of one Instagram professional account (business or creator).

API reference: https://developers.facebook.com/documentation/instagram-platform/reference and
the IG Media fields in
https://developers.facebook.com/documentation/instagram-platform/reference/instagram-media.
Errors, paging, usage headers and token checks are shared with Facebook and Threads in
``graph.py``.

Two documented ways in, chosen per account with ``login``:

- ``login: instagram`` (default), the *Instagram API with Instagram Login*: host
  ``graph.instagram.com``, an Instagram user token with ``instagram_business_basic``; no
  Facebook Page needed. Long-lived tokens last 60 days; the daily token check refreshes the
  token (``refresh_access_token``), which extends the same token by another 60 days.
- ``login: facebook``, the *Instagram API with Facebook Login*: host ``graph.facebook.com``,
  a Facebook user or system-user token with ``instagram_basic`` and ``pages_show_list`` (and
  ``pages_read_engagement``) for the Page linked to the account; the daily check reads the
  expiry from ``/debug_token``.

``/{ig-user-id}/media`` lists the account's feed posts and reels, newest first: IMAGE, VIDEO
(a reel has ``media_product_type`` REELS) and CAROUSEL_ALBUM with its ``children``. Videos are
not re-hosted: their ``thumbnail_url`` becomes a poster that links to the post. Where Instagram
leaves out ``media_url`` (copyright-flagged media) the site shows a placeholder with the link.
Captions are plain text: links are cleaned, hashtags and @names become plain spans that link
nowhere. Stories (24 hours) are not on this edge and are not archived.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ..clean.html import linkify_text
from ..clean.links import clean_url
from ..errors import ConfigError
from ..model import Media, Post, post_id
from ..times import normalize_time
from . import graph
from .base import AccountConfig, FetchContext, Fetched, Param, Secret, Source

PLATFORM = graph.Platform(
    name="instagram",
    label="Instagram",
    permissions="instagram_business_basic (Instagram Login) or instagram_basic and "
    "pages_show_list (Facebook Login)",
)
HOSTS = {
    "instagram": "https://graph.instagram.com",  # Instagram API with Instagram Login
    "facebook": "https://graph.facebook.com",  # Instagram API with Facebook Login
}
MEDIA_PATH = "/{version}/{user_id}/media"
# Refreshing is unversioned and only on graph.instagram.com (Instagram Login tokens).
REFRESH_PATH = "/refresh_access_token"
REFRESH_GRANT = "ig_refresh_token"
CHILD_FIELDS = "id,media_type,media_url,thumbnail_url"
FIELDS = (
    "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,shortcode,"
    f"timestamp,children{{{CHILD_FIELDS}}}"
)


class InstagramSource(Source):
    name: ClassVar[str] = "instagram"
    label: ClassVar[str] = "Instagram"
    docs: ClassVar[str] = "plattformen/instagram.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "user_id",
            "the numeric id of the Instagram professional account (or 'me' with Instagram Login)",
            example="17841400123456789",
        ),
        Param(
            "login",
            "how the token was made: 'instagram' (Instagram Login, graph.instagram.com, the "
            "default) or 'facebook' (Facebook Login, graph.facebook.com)",
            required=False,
            example="instagram",
        ),
    )
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("token", "an Instagram access token with instagram_business_basic"),
    )
    default_api_base: ClassVar[str] = HOSTS["instagram"]

    def api_base(self, params: dict[str, str]) -> str:
        return HOSTS.get(login_of(params), HOSTS["instagram"])

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        login = login_of(account.params)
        if login not in HOSTS:
            raise ConfigError(
                "aushang.yml",
                f"accounts[{account.key}].login",
                f"expected 'instagram' or 'facebook', got {login!r}",
            )
        versioned = f"{account.api_base}/{graph.GRAPH_API_VERSION}"
        if login == "instagram":
            probe = graph.probe_refresh(account.api_base + REFRESH_PATH, REFRESH_GRANT)
        else:
            probe = graph.probe_debug_token(versioned)
        graph.check_token(context, PLATFORM, probe)
        url = account.api_base + MEDIA_PATH.format(
            version=graph.GRAPH_API_VERSION, user_id=account.params["user_id"]
        )
        params = {"fields": FIELDS, "limit": graph.PAGE_LIMIT}
        for raw in graph.walk_new_items(context, PLATFORM, url, params, time_field="timestamp"):
            try:
                yield Fetched(to_post(raw, account), raw)
            except (KeyError, TypeError, ValueError) as exc:
                context.log.warning(
                    "%s: skipped malformed media %s (%s)", account.key, raw.get("id"), exc
                )


def login_of(params: dict[str, str]) -> str:
    return (params.get("login") or "instagram").strip().lower()


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one IG Media object into a Post. Pure: no I/O."""
    native_id = str(raw["id"])
    caption = str(raw.get("caption") or "")
    url = _permalink(raw)
    media_type = str(raw.get("media_type") or "").upper()
    if media_type == "CAROUSEL_ALBUM":
        children = (raw.get("children") or {}).get("data") or []
        media = tuple(to_media(child, url) for child in children if isinstance(child, dict))
        if not media and raw.get("media_url"):
            media = (Media(kind="image", source=str(raw["media_url"])),)  # the cover at least
    else:
        media = (to_media(raw, url),)
    extra: dict[str, Any] = {}
    for key in ("media_type", "media_product_type", "shortcode"):
        if raw.get(key):
            extra[key] = str(raw[key])
    return Post(
        id=post_id(PLATFORM.name, account.key, native_id),
        platform=PLATFORM.name,
        account=account.key,
        native_id=native_id,
        url=url,
        published=normalize_time(str(raw["timestamp"])),
        text_html=graph.mark_mentions(linkify_text(caption)) if caption.strip() else "",
        media=media,
        hashtags=graph.hashtags(caption),
        extra=extra,
    )


def to_media(item: dict[str, Any], post_url: str) -> Media:
    """An IMAGE or VIDEO (the post itself or a carousel child) as a media item."""
    if str(item.get("media_type") or "").upper() == "VIDEO":
        # The poster is re-hosted; the video itself stays on Instagram.
        return Media(kind="video", source=str(item.get("thumbnail_url") or ""), url=post_url)
    source = item.get("media_url") or item.get("thumbnail_url") or ""
    return Media(kind="image", source=str(source))


def _permalink(raw: dict[str, Any]) -> str:
    if raw.get("permalink"):
        return graph.strip_query(clean_url(str(raw["permalink"])))
    if raw.get("shortcode"):
        return f"https://www.instagram.com/p/{raw['shortcode']}/"
    return "https://www.instagram.com/"
