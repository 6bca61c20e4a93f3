"""The Meta part of the demo server: renders ``data/meta.yml`` as Graph API responses.

Routes (an account's ``api_base`` is ``<server>/facebook``, ``<server>/instagram`` or
``<server>/threads``; any Graph version ``vNN.N`` is accepted):

- ``GET /facebook/<version>/<page-id>/published_posts``:
  https://developers.facebook.com/docs/graph-api/reference/page/published_posts/, and
  ``GET /facebook/<version>/?ids=<photo-ids>`` for the Photo nodes (``images``,
  ``alt_text_custom``): https://developers.facebook.com/docs/graph-api/reference/photo/
- ``GET /instagram/<version>/<ig-user-id or me>/media``:
  https://developers.facebook.com/documentation/instagram-platform/reference/instagram-media
- ``GET /threads/v1.0/me/threads`` and ``GET /threads/v1.0/<media-id>``:
  https://developers.facebook.com/documentation/threads/reference/user
- ``GET /<platform>/<version>/debug_token`` and ``GET /instagram|threads/refresh_access_token``.

Like the real API it returns only the fields asked for (nested ``a{b,c}`` included; a
connection asked for without sub-fields gives ids only where Graph does), answers an unknown
field with error #100, pages with ``paging.cursors`` and a ``paging.next`` URL that contains the
caller's ``access_token`` (as Graph's does), and reports quota use in ``X-App-Usage`` (Facebook)
or ``X-Business-Use-Case-Usage`` (Instagram). Every error is Graph's: HTTP 400 with an
``error`` object, code 190 for a token that is not the demo's (``demo-token``) or that a test
marked expired (subcode 463), code 100 for an unknown object. Shapes follow the reference pages
above and the recorded responses of sns-sdks/python-facebook.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import yaml

from .server import Request, Response

DATA_FILE = Path(__file__).parent / "data" / "meta.yml"
DEMO_TOKEN = "demo-token"  # noqa: S105 (the public, fake token every demo platform accepts)
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
DAY = 86400
_VERSION = r"v\d+\.\d+"
_ROUTE = re.compile(rf"^/(facebook|instagram|threads)(?:/({_VERSION}))?(/.*)$")


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Fields each node type documents (a subset: what a reader of these platforms might ask for).
KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "PagePost": _names(
        "id message message_tags created_time updated_time permalink_url status_type "
        "full_picture picture icon attachments story story_tags is_published is_hidden "
        "is_expired shares from parent_id place privacy properties actions call_to_action "
        "scheduled_publish_time backdated_time timeline_visibility promotable_id"
    ),
    "Photo": _names(
        "id album alt_text alt_text_custom backdated_time created_time from height icon images "
        "link name page_story_id picture place updated_time webp_images width"
    ),
    "StoryAttachment": _names(
        "description description_tags media media_type target title type unshimmed_url url "
        "subattachments"
    ),
    "IGMedia": _names(
        "id caption comments_count is_comment_enabled is_shared_to_feed like_count "
        "media_product_type media_type media_url owner permalink shortcode thumbnail_url "
        "timestamp username children legacy_instagram_media_id"
    ),
    "ThreadsMedia": _names(
        "id media_product_type media_type media_url permalink owner username text timestamp "
        "shortcode thumbnail_url children is_quote_post alt_text link_attachment_url "
        "has_replies reply_audience quoted_post reposted_post gif_url is_spoiler_media "
        "text_entities text_attachment is_verified profile_picture_url"
    ),
}
# Connections that, asked for without sub-fields, list only ids (Graph's default field).
_ID_ONLY = frozenset({("IGMedia", "children"), ("ThreadsMedia", "children")})
_CHILD_NODE = {
    ("PagePost", "attachments"): "StoryAttachment",
    ("StoryAttachment", "subattachments"): "StoryAttachment",
    ("IGMedia", "children"): "IGMedia",
    ("ThreadsMedia", "children"): "ThreadsMedia",
}


class FieldError(Exception):
    def __init__(self, field: str, node: str) -> None:
        super().__init__(
            f"(#100) Tried accessing nonexisting field ({field}) on node type ({node})"
        )


def parse_fields(spec: str) -> dict[str, Any]:
    """``"a,b{c,d{e}}"`` -> ``{"a": None, "b": {"c": None, "d": {"e": None}}}``."""
    fields, _end = _parse_fields(spec, 0)
    return fields


def _parse_fields(spec: str, index: int) -> tuple[dict[str, Any], int]:
    fields: dict[str, Any] = {}
    name = ""
    while index < len(spec):
        char = spec[index]
        if char == ",":
            if name.strip():
                fields[name.strip()] = None
            name, index = "", index + 1
        elif char == "{":
            sub, index = _parse_fields(spec, index + 1)
            fields[name.strip()] = sub
            name = ""
        elif char == "}":
            if name.strip():
                fields[name.strip()] = None
            return fields, index + 1
        else:
            name, index = name + char, index + 1
    if name.strip():
        fields[name.strip()] = None
    return fields, index


def select(entity: dict[str, Any], fields: dict[str, Any], node: str) -> dict[str, Any]:
    """The entity reduced to the requested fields, as Graph answers."""
    for name in fields:
        if name not in KNOWN_FIELDS[node]:
            raise FieldError(name, node)
    result: dict[str, Any] = {}
    for name, sub in fields.items():
        if name not in entity:
            continue  # Graph leaves out fields without a value
        value = entity[name]
        child = _CHILD_NODE.get((node, name))
        if isinstance(value, dict) and isinstance(value.get("data"), list) and child:
            if sub:
                items = [select(item, sub, child) for item in value["data"]]
            elif (node, name) in _ID_ONLY:
                items = [{"id": item["id"]} for item in value["data"]]
            else:
                items = value["data"]
            value = {**value, "data": items}
        result[name] = value
    if "id" in entity:
        result.setdefault("id", entity["id"])
    return result


def graph_time(value: Any) -> str:
    """``2026-06-05T07:30:00+0000``, the way Graph writes times."""
    return _moment(value).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _digest(*parts: str, length: int = 12) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:length]


def _encode_cursor(native_id: str) -> str:
    return base64.urlsafe_b64encode(f"cursor:{native_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return text.removeprefix("cursor:") if text.startswith("cursor:") else None


class MetaDemo:
    """Facebook Page, Instagram account and Threads profile of Musterstadt, served as Graph."""

    def __init__(self, data_file: Path = DATA_FILE) -> None:
        data = yaml.safe_load(data_file.read_text(encoding="utf-8"))
        self.facebook: dict[str, Any] = data["facebook"]
        self.instagram: dict[str, Any] = data["instagram"]
        self.threads: dict[str, Any] = data["threads"]
        self.tokens: set[str] = {DEMO_TOKEN}
        self.expired_tokens: set[str] = set()
        # Quota use in percent, as X-App-Usage / X-Business-Use-Case-Usage report it.
        self.usage: dict[str, int] = {"call_count": 4, "total_cputime": 2, "total_time": 3}
        # Seconds a token lives from now (0: does not expire), per platform.
        self.token_lifetime: dict[str, int] = {
            "facebook": 0,  # a Page token made from a long-lived user token
            "instagram": 60 * DAY,
            "threads": 60 * DAY,
        }
        self.data_access_lifetime = 90 * DAY
        self._lock = threading.Lock()
        self._traces = 0

    # -- test hooks ----------------------------------------------------------------------------
    def add_post(self, platform: str, post: dict[str, Any]) -> None:
        """Publish a post while the server runs (tests of incremental fetching and paging)."""
        with self._lock:
            getattr(self, platform)["posts"].append(post)

    # -- routing -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | None:
        match = _ROUTE.match(request.path)
        if not match:
            return None
        platform, version, path = match.groups()
        token = self._token(request)
        if token in self.expired_tokens:
            return self._error(
                "Error validating access token: Session has expired on Sunday, 01-Nov-26 "
                "10:00:00 PST. The current time is Monday, 02-Nov-26 09:00:00 PST.",
                190,
                subcode=463,
            )
        if token not in self.tokens:
            return self._error("Invalid OAuth access token - Cannot parse access token", 190)
        try:
            if path == "/refresh_access_token" and version is None:
                return self._refresh(request, platform, token)
            if version is None:
                return self._unsupported(path)
            if path == "/debug_token":
                return self._debug_token(request, platform)
            if platform == "facebook":
                return self._facebook(request, path, token)
            if platform == "instagram":
                return self._instagram(request, path, token)
            return self._threads(request, path, token)
        except FieldError as exc:
            return self._error(str(exc), 100)

    def _token(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip()
        return request.param("access_token") or ""

    # -- responses -----------------------------------------------------------------------------
    def _trace(self) -> str:
        with self._lock:
            self._traces += 1
            return "AdEmO" + _digest(str(self._traces), length=14)

    def _error(self, message: str, code: int, *, subcode: int | None = None) -> Response:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = self._trace()
        return Response.json({"error": error}, status=400)

    def _unsupported(self, object_id: str) -> Response:
        object_id = object_id.strip("/")
        error = {
            "message": f"Unsupported get request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation. "
            "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": self._trace(),
        }
        return Response.json({"error": error}, status=400)

    def _usage_headers(self, platform: str) -> dict[str, str]:
        usage = json.dumps(self.usage)
        if platform == "facebook":
            return {"X-App-Usage": usage}
        if platform == "instagram":
            entry = {**self.usage, "type": "instagram", "estimated_time_to_regain_access": 0}
            return {"X-Business-Use-Case-Usage": json.dumps({self.instagram["user_id"]: [entry]})}
        return {}

    def _json(self, platform: str, data: Any) -> Response:
        return Response.json(data, headers=self._usage_headers(platform))

    def _page(
        self,
        request: Request,
        platform: str,
        items: list[dict[str, Any]],
        node: str,
        token: str,
    ) -> Response:
        fields = parse_fields(request.param("fields") or "id")
        try:
            limit = min(max(int(request.param("limit") or DEFAULT_LIMIT), 1), MAX_LIMIT)
        except ValueError:
            return self._error("(#100) Param limit must be an integer", 100)
        start = 0
        after = request.param("after")
        if after:
            last = _decode_cursor(after)
            ids = [str(item["id"]) for item in items]
            if last not in ids:
                return self._error("(#100) The after cursor is not valid", 100)
            start = ids.index(last) + 1
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"data": [select(item, fields, node) for item in chunk]}
        if chunk:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": _encode_cursor(str(chunk[0]["id"])),
                    "after": _encode_cursor(str(chunk[-1]["id"])),
                }
            }
            if start + limit < len(items):
                query = {
                    "access_token": token,
                    "fields": request.param("fields") or "id",
                    "limit": str(limit),
                    "after": paging["cursors"]["after"],
                }
                paging["next"] = f"{request.base}{request.path}?{urlencode(query)}"
            body["paging"] = paging
        return self._json(platform, body)

    # -- tokens --------------------------------------------------------------------------------
    def _refresh(self, request: Request, platform: str, token: str) -> Response:
        expected = {"instagram": "ig_refresh_token", "threads": "th_refresh_token"}.get(platform)
        if request.param("grant_type") != expected:
            return self._error("Unsupported grant type", 100)
        if request.headers.get("authorization"):
            # Documented with the token in the query only; the demo holds callers to that.
            return self._error("access_token must be given as a query parameter", 100)
        lifetime = self.token_lifetime[platform] or 60 * DAY
        return self._json(
            platform, {"access_token": token, "token_type": "bearer", "expires_in": lifetime}
        )

    def _debug_token(self, request: Request, platform: str) -> Response:
        inspected = request.param("input_token") or ""
        now = int(time.time())
        lifetime = self.token_lifetime[platform]
        valid = inspected in self.tokens
        scopes = {
            "facebook": ["pages_show_list", "pages_read_engagement"],
            "instagram": ["instagram_basic", "pages_show_list", "pages_read_engagement"],
            "threads": ["threads_basic"],
        }[platform]
        data: dict[str, Any] = {
            "app_id": "1234567890123456",
            "type": "PAGE" if platform == "facebook" else "USER",
            "application": "Aushang Musterstadt",
            "data_access_expires_at": (
                now + self.data_access_lifetime if valid and self.data_access_lifetime else 0
            ),
            "expires_at": now + lifetime if lifetime else 0,
            "is_valid": valid,
            "issued_at": now - DAY,
            "scopes": scopes,
            "granular_scopes": [{"scope": scope} for scope in scopes],
            "user_id": "100000000000001",
        }
        if platform == "facebook":
            data["profile_id"] = self.facebook["page_id"]
        return self._json(platform, {"data": data})

    # -- Facebook ------------------------------------------------------------------------------
    def _facebook(self, request: Request, path: str, token: str) -> Response:
        page_id = self.facebook["page_id"]
        if path == "/" and request.param("ids"):
            return self._facebook_objects(request)
        if path != f"/{page_id}/published_posts":
            return self._unsupported(path.rsplit("/", 1)[0] if path.count("/") > 1 else path)
        posts = sorted(self.facebook["posts"], key=lambda p: _moment(p["at"]), reverse=True)
        items = [self.facebook_post(post, request.base) for post in posts]
        return self._page(request, "facebook", items, "PagePost", token)

    def _facebook_objects(self, request: Request) -> Response:
        """``GET /?ids=a,b&fields=...``: several nodes at once, keyed by id (photos here)."""
        fields = parse_fields(request.param("fields") or "id")
        photos = self._facebook_photos(request.base)
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        missing = [i for i in ids if i not in photos]
        if missing:
            return self._error(
                f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}", 803
            )
        return self._json("facebook", {i: select(photos[i], fields, "Photo") for i in ids})

    def _facebook_photos(self, base: str) -> dict[str, dict[str, Any]]:
        nodes: dict[str, dict[str, Any]] = {}
        for post in self.facebook["posts"]:
            photos = list(enumerate(post.get("photos") or []))
            keys = [str(post["id"])] if photos else []
            if post.get("album"):
                photos = list(enumerate(post["album"]["photos"]))
                keys = [f"{post['id']}-{index}" for index, _photo in photos]
            for key, (_index, photo) in zip(keys, photos, strict=True):
                photo_id = _photo_id(key)
                gps = bool(photo.get("gps"))
                node: dict[str, Any] = {
                    "id": photo_id,
                    "created_time": graph_time(post["at"]),
                    "alt_text": "Kann ein Bild von Menschenmenge und im Freien sein",
                    "images": [
                        {
                            "height": 1200,
                            "source": _fbcdn(base, photo["seed"], 1600, 1200, gps=gps),
                            "width": 1600,
                        },
                        {
                            "height": 540,
                            "source": _fbcdn(base, photo["seed"], 720, 540, gps=gps),
                            "width": 720,
                        },
                        {
                            "height": 240,
                            "source": _fbcdn(base, photo["seed"], 320, 240, gps=gps),
                            "width": 320,
                        },
                    ],
                    "height": 1200,
                    "width": 1600,
                }
                if photo.get("alt"):
                    node["alt_text_custom"] = photo["alt"]
                nodes[photo_id] = node
        return nodes

    def facebook_post(self, post: dict[str, Any], base: str) -> dict[str, Any]:
        page = self.facebook["page_name"]
        native_id = str(post["id"])
        entity: dict[str, Any] = {
            "id": native_id,
            "created_time": graph_time(post["at"]),
            # Moves whenever someone comments, which is why Aushang does not read it as an edit.
            "updated_time": graph_time(_moment(post["at"]) + timedelta(hours=3)),
            "permalink_url": f"https://www.facebook.com/{page}/posts/pfbid0"
            + _digest(native_id, length=30),
            "status_type": post.get("status_type", "mobile_status_update"),
            "is_published": True,
        }
        if post.get("text"):
            entity["message"] = str(post["text"]).strip()
        attachment = self._facebook_attachment(post, base)
        if attachment is not None:
            entity["attachments"] = {"data": [attachment]}
            image = (attachment.get("media") or {}).get("image") or {}
            if image.get("src"):
                entity["full_picture"] = image["src"]
        return entity

    def _facebook_attachment(self, post: dict[str, Any], base: str) -> dict[str, Any] | None:
        page = self.facebook["page_name"]
        if post.get("photos"):
            return self._facebook_photo(post["photos"][0], base, str(post["id"]))
        if post.get("album"):
            album = post["album"]
            photos = [
                self._facebook_photo(photo, base, f"{post['id']}-{index}")
                for index, photo in enumerate(album["photos"])
            ]
            for photo in photos:
                photo.pop("media_type", None)  # sub-attachments carry "type" only
                photo.pop("unshimmed_url", None)
            album_id = _digest(str(post["id"]), "album", length=15)
            url = f"https://www.facebook.com/media/set/?set=a.{int(album_id, 16) % 10**15}&type=3"
            return {
                "media": photos[0]["media"],
                "media_type": "album",
                "target": {"id": album_id, "url": url},
                "title": album.get("title", ""),
                "type": "album",
                "url": url,
                "unshimmed_url": url,
                "subattachments": {"data": photos},
            }
        if post.get("link"):
            link = post["link"]
            wrapped = (
                "https://l.facebook.com/l.php?u="
                + quote(link["url"], safe="")
                + f"&h=AT{_digest(link['url'], length=20)}&s=1"
            )
            attachment: dict[str, Any] = {
                "description": link.get("description", ""),
                "media_type": "link",
                "target": {"url": wrapped},
                "title": link.get("title", ""),
                "type": "share",
                "unshimmed_url": link["url"],
                "url": wrapped,
            }
            if link.get("image_seed"):
                attachment["media"] = {
                    "image": {
                        "height": 378,
                        "src": _fbcdn(base, link["image_seed"], 720, 378, safe_image=True),
                        "width": 720,
                    }
                }
            return attachment
        if post.get("video"):
            video = post["video"]
            url = f"https://www.facebook.com/{page}/videos/{video['video_id']}/"
            return {
                "media": {
                    "image": {
                        "height": 405,
                        "src": _fbcdn(base, video["seed"], 720, 405),
                        "width": 720,
                    },
                    "source": f"https://video.xx.fbcdn.net/v/t42.1790-2/{video['video_id']}_n.mp4",
                },
                "media_type": "video",
                "target": {"id": video["video_id"], "url": url},
                "title": "",
                "type": "video_inline",
                "url": url,
                "unshimmed_url": url,
            }
        if post.get("event"):
            event = post["event"]
            url = f"https://www.facebook.com/events/{event['id']}/"
            attachment = {
                "description": event.get("description", ""),
                "media_type": "event",
                "target": {"id": event["id"], "url": url},
                "title": event.get("title", ""),
                "type": "event",
                "url": url,
                "unshimmed_url": url,
            }
            if event.get("image_seed"):
                attachment["media"] = {
                    "image": {
                        "height": 378,
                        "src": _fbcdn(base, event["image_seed"], 720, 378),
                        "width": 720,
                    }
                }
            return attachment
        return None

    def _facebook_photo(self, photo: dict[str, Any], base: str, key: str) -> dict[str, Any]:
        page = self.facebook["page_name"]
        photo_id = _photo_id(key)
        url = f"https://www.facebook.com/{page}/photos/a.{photo_id[:9]}/{photo_id}/?type=3"
        return {
            "media": {
                "image": {
                    "height": 540,
                    "src": _fbcdn(base, photo["seed"], 720, 540, gps=bool(photo.get("gps"))),
                    "width": 720,
                }
            },
            "media_type": "photo",
            "target": {"id": photo_id, "url": url},
            "type": "photo",
            "url": url,
            "unshimmed_url": url,
        }

    # -- Instagram -----------------------------------------------------------------------------
    def _instagram(self, request: Request, path: str, token: str) -> Response:
        user_id = self.instagram["user_id"]
        if path not in (f"/{user_id}/media", "/me/media"):
            return self._unsupported(path.rsplit("/", 1)[0] if path.count("/") > 1 else path)
        posts = sorted(self.instagram["posts"], key=lambda p: _moment(p["at"]), reverse=True)
        items = [self.instagram_media(post, request.base) for post in posts]
        return self._page(request, "instagram", items, "IGMedia", token)

    def instagram_media(self, post: dict[str, Any], base: str) -> dict[str, Any]:
        username = self.instagram["username"]
        media_type = post["media_type"]
        kind = "reel" if post.get("media_product_type") == "REELS" else "p"
        entity: dict[str, Any] = {
            "id": str(post["id"]),
            "media_type": media_type,
            "media_product_type": post.get("media_product_type", "FEED"),
            "permalink": f"https://www.instagram.com/{kind}/{post['shortcode']}/",
            "shortcode": post["shortcode"],
            "timestamp": graph_time(post["at"]),
            "username": username,
            "owner": {"id": self.instagram["user_id"]},
            "comments_count": 12,
            "like_count": 240,
        }
        if post.get("caption"):
            entity["caption"] = str(post["caption"]).strip()
        entity.update(self._instagram_files(post, base))
        if media_type == "CAROUSEL_ALBUM":
            children = []
            for child in post.get("children") or []:
                item = {
                    "id": str(child["id"]),
                    "media_type": child["media_type"],
                    "timestamp": entity["timestamp"],
                    "username": username,
                    **self._instagram_files(child, base),
                }
                children.append(item)
            entity["children"] = {"data": children}
            if children:
                entity["media_url"] = children[0].get("media_url", "")
        return entity

    def _instagram_files(self, item: dict[str, Any], base: str) -> dict[str, str]:
        if item["media_type"] == "IMAGE":
            return {"media_url": _igcdn(base, item["seed"], gps=bool(item.get("gps")))}
        if item["media_type"] == "VIDEO":
            return {
                "media_url": f"https://video.cdninstagram.com/o1/v/t16/f2/m86/{item['seed']}.mp4",
                "thumbnail_url": _igcdn(base, item["seed"], width=1080, height=1920),
            }
        return {}

    # -- Threads -------------------------------------------------------------------------------
    def _threads(self, request: Request, path: str, token: str) -> Response:
        fields = parse_fields(request.param("fields") or "id")
        if path in ("/me/threads", f"/{self.threads['user_id']}/threads"):
            posts = sorted(self.threads["posts"], key=lambda p: _moment(p["at"]), reverse=True)
            items = [self.threads_media(post, request.base) for post in posts]
            return self._page(request, "threads", items, "ThreadsMedia", token)
        found = re.fullmatch(r"/(\d+)", path)
        if found:
            entity = self._threads_object(found.group(1), request.base)
            if entity is not None:
                return self._json("threads", select(entity, fields, "ThreadsMedia"))
        return self._unsupported(path)

    def _threads_object(self, media_id: str, base: str) -> dict[str, Any] | None:
        for post in self.threads["posts"]:
            if str(post["id"]) == media_id:
                return self.threads_media(post, base)
            for child in post.get("children") or []:
                if str(child["id"]) == media_id:
                    return self._threads_child(child, post, base)
        for other in self.threads.get("others") or []:
            if str(other["id"]) == media_id:
                return self.threads_media(other, base, username=other["username"])
        return None

    def threads_media(
        self, post: dict[str, Any], base: str, *, username: str | None = None
    ) -> dict[str, Any]:
        username = username or self.threads["username"]
        media_type = post["media_type"]
        entity: dict[str, Any] = {
            "id": str(post["id"]),
            "media_product_type": "THREADS",
            "media_type": media_type,
            "permalink": f"https://www.threads.net/@{username}/post/{post['shortcode']}",
            "owner": {"id": self.threads["user_id"]},
            "username": username,
            "timestamp": graph_time(post["at"]),
            "shortcode": post["shortcode"],
            "is_quote_post": bool(post.get("quoted")),
            "has_replies": False,
        }
        if post.get("text"):
            entity["text"] = str(post["text"]).strip()
        if post.get("link"):
            entity["link_attachment_url"] = post["link"]
        if post.get("alt"):
            entity["alt_text"] = post["alt"]
        if media_type == "IMAGE":
            entity["media_url"] = _threadscdn(base, post["seed"], gps=bool(post.get("gps")))
        elif media_type == "VIDEO":
            entity["media_url"] = (
                f"https://video.cdninstagram.com/o1/v/t2/f2/m69/{post['seed']}.mp4"
            )
            entity["thumbnail_url"] = _threadscdn(base, post["seed"], width=1280, height=720)
        elif media_type == "CAROUSEL_ALBUM":
            entity["children"] = {
                "data": [self._threads_child(c, post, base) for c in post.get("children") or []]
            }
        elif media_type == "REPOST_FACADE":
            original = next(
                o for o in self.threads.get("others") or [] if str(o["id"]) == str(post["reposted"])
            )
            entity["reposted_post"] = {"id": str(original["id"])}
            entity["permalink"] = (
                f"https://www.threads.net/@{original['username']}/post/{original['shortcode']}"
            )
        if post.get("quoted"):
            entity["quoted_post"] = {"id": str(post["quoted"])}
        return entity

    def _threads_child(
        self, child: dict[str, Any], parent: dict[str, Any], base: str
    ) -> dict[str, Any]:
        username = self.threads["username"]
        entity: dict[str, Any] = {
            "id": str(child["id"]),
            "media_product_type": "THREADS",
            "media_type": child["media_type"],
            "permalink": f"https://www.threads.net/@{username}/post/{parent['shortcode']}",
            "username": username,
            "timestamp": graph_time(parent["at"]),
            "is_quote_post": False,
        }
        if child.get("alt"):
            entity["alt_text"] = child["alt"]
        if child["media_type"] == "IMAGE":
            entity["media_url"] = _threadscdn(base, child["seed"], gps=bool(child.get("gps")))
        elif child["media_type"] == "VIDEO":
            entity["media_url"] = f"https://video.cdninstagram.com/o1/v/{child['seed']}.mp4"
            entity["thumbnail_url"] = _threadscdn(base, child["seed"], width=1280, height=720)
        return entity


def _photo_id(key: str) -> str:
    return str(int(_digest(key, "photo", length=14), 16))


def _signed(seed: str, host: str) -> str:
    """The query of a signed Meta CDN URL (``oh`` signs it, ``oe`` is the hex expiry)."""
    return urlencode(
        {
            "_nc_cat": str(100 + int(_digest(seed, length=2), 16) % 12),
            "ccb": "1-7",
            "_nc_sid": _digest(seed, "sid", length=6),
            "_nc_ohc": _digest(seed, "ohc", length=11),
            "_nc_ht": host,
            "oh": "00_" + _digest(seed, "oh", length=40),
            "oe": "6A" + _digest(seed, "oe", length=6).upper(),
        }
    )


def _fbcdn(
    base: str, seed: str, width: int, height: int, *, gps: bool = False, safe_image: bool = False
) -> str:
    """A demo stand-in for a ``scontent-*.xx.fbcdn.net`` (or ``safe_image.php``) URL."""
    size = f"w={width}&h={height}" + ("&gps=1" if gps else "")
    host = "external-fra5-1.xx" if safe_image else "scontent-fra5-1.xx"
    return f"{base}/media/{seed}.jpg?{size}&stp=dst-jpg_p{width}x{width}&{_signed(seed, host)}"


def _igcdn(
    base: str, seed: str, *, gps: bool = False, width: int = 1080, height: int = 1080
) -> str:
    size = f"w={width}&h={height}" + ("&gps=1" if gps else "")
    return f"{base}/media/{seed}.jpg?{size}&{_signed(seed, 'scontent-fra3-1.cdninstagram.com')}"


def _threadscdn(
    base: str, seed: str, *, gps: bool = False, width: int = 1440, height: int = 1080
) -> str:
    size = f"w={width}&h={height}" + ("&gps=1" if gps else "")
    return f"{base}/media/{seed}.jpg?{size}&{_signed(seed, 'scontent-fra5-2.cdninstagram.com')}"
