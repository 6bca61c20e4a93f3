"""The Bluesky part of the demo server: renders ``data/bluesky.yml`` as Bluesky's public AppView.

Served under ``/bluesky/xrpc/<method>``:

- ``com.atproto.identity.resolveHandle``: the DID, or 400 ``InvalidRequest`` "Unable to resolve
  handle" (Bluesky answers an unknown handle with 400, not 404);
- ``app.bsky.feed.getAuthorFeed``: newest first, with ``limit`` (at most 100), an opaque
  ``cursor`` and the ``filter`` values the AppView knows; items are ``feedViewPost`` objects with
  ``post``, ``reply`` and ``reason`` as in https://docs.bsky.app/docs/api/app-bsky-feed-get-author-feed.

Shapes follow the lexicons of https://github.com/bluesky-social/atproto/tree/main/lexicons and
recorded AppView responses. Record keys are TIDs derived from each post's time; facets are
UTF-8 byte ranges computed from the text, so umlauts and emoji shift them as they do on Bluesky.
Every answer carries the ``ratelimit-*`` headers the AppView sends.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from .server import Request, Response

DATA_FILE = Path(__file__).parent / "data" / "bluesky.yml"
_ROUTE = re.compile(r"^/bluesky/xrpc/([A-Za-z0-9.]+)$")
_BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
_TAG = re.compile(r"(?<![\w/&])#(\w*[^\W\d_]\w*)")
_MENTION = re.compile(r"(?<![\w/])@([a-z0-9][a-z0-9.-]*\.[a-z]{2,})")
RATE_LIMIT = 3000  # per 5 minutes and IP, as the AppView announces in ratelimit-policy
MAX_LIMIT = 100
FILTERS = (
    "posts_with_replies",
    "posts_no_replies",
    "posts_with_media",
    "posts_and_author_threads",
    "posts_with_video",
)


def tid(at: datetime, clock: int) -> str:
    """A record key as Bluesky makes them: microseconds since 1970 and a clock id, base32."""
    number = (int(at.timestamp() * 1_000_000) << 10) | (clock & 0x3FF)
    characters = []
    for _ in range(13):
        characters.append(_BASE32_SORTABLE[number & 31])
        number >>= 5
    return "".join(reversed(characters))


def fake_cid(seed: str, prefix: str = "bafyrei") -> str:
    digest = base64.b32encode(hashlib.sha256(seed.encode("utf-8")).digest()).decode("ascii")
    return prefix + digest.lower().rstrip("=")[:52]


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BlueskyDemo:
    def __init__(self, data_file: Path = DATA_FILE) -> None:
        data = yaml.safe_load(data_file.read_text(encoding="utf-8"))
        self.accounts: list[dict[str, Any]] = data["accounts"]
        self.remaining = RATE_LIMIT

    # -- test hooks ----------------------------------------------------------------------------
    def account(self, handle: str) -> dict[str, Any]:
        for account in self.accounts:
            if account["handle"] == handle or account["did"] == handle:
                return account
        raise KeyError(handle)

    def add_post(self, handle: str, post: dict[str, Any]) -> None:
        """Publish a new post while the server runs (tests of incremental fetching)."""
        self.account(handle)["posts"].append(post)

    def set_labels(self, handle: str, labels: list[str]) -> None:
        """Set the account's own profile labels, e.g. ``["!no-unauthenticated"]``."""
        self.account(handle)["labels"] = list(labels)

    # -- routing -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | None:
        match = _ROUTE.match(request.path)
        if not match:
            return None
        method = match.group(1)
        media_root = f"{request.base}/media"
        if method == "com.atproto.identity.resolveHandle":
            handle = (request.param("handle") or "").lower()
            for account in self.accounts:
                if account["handle"] == handle:
                    return self._json({"did": account["did"]})
            return self._error("InvalidRequest", "Unable to resolve handle")
        if method == "app.bsky.feed.getAuthorFeed":
            return self._author_feed(request, media_root)
        return self._json(
            {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, status=501
        )

    def _json(self, data: Any, status: int = 200) -> Response:
        self.remaining = max(0, self.remaining - 1)
        headers = {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": str(max(1, self.remaining)),
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": f"{RATE_LIMIT};w=300",
        }
        return Response.json(data, status=status, headers=headers)

    def _error(self, error: str, message: str) -> Response:
        return self._json({"error": error, "message": message}, status=400)

    def _author_feed(self, request: Request, media_root: str) -> Response:
        actor = request.param("actor") or ""
        try:
            account = self.account(actor)
        except KeyError:
            return self._error("InvalidRequest", "Profile not found")
        feed_filter = request.param("filter", "posts_with_replies") or "posts_with_replies"
        if feed_filter not in FILTERS:
            return self._error("InvalidRequest", f"Invalid filter: {feed_filter}")
        try:
            limit = int(request.param("limit", "50") or 50)
        except ValueError:
            return self._error("InvalidRequest", "limit must be an integer")
        if not 1 <= limit <= MAX_LIMIT:
            return self._error("InvalidRequest", f"limit must be between 1 and {MAX_LIMIT}")
        items = self._items(account, feed_filter)
        cursor = request.param("cursor")
        if cursor:
            before = _time(cursor)
            items = [item for item in items if item[0] < before]
        page = items[:limit]
        body: dict[str, Any] = {
            "feed": [self._feed_item(account, item, media_root) for item in page]
        }
        if len(items) > limit:
            body["cursor"] = _iso(page[-1][0])
        return self._json(body)

    def _items(
        self, account: dict[str, Any], feed_filter: str
    ) -> list[tuple[datetime, str, dict[str, Any]]]:
        """(sort time, kind, entry) of the author feed, newest first."""
        items: list[tuple[datetime, str, dict[str, Any]]] = []
        for post in account["posts"]:
            is_reply = bool(post.get("reply_to") or post.get("reply_to_other"))
            if feed_filter == "posts_no_replies" and is_reply:
                continue
            if feed_filter == "posts_and_author_threads" and post.get("reply_to_other"):
                continue
            if feed_filter == "posts_with_media" and not post.get("images"):
                continue
            if feed_filter == "posts_with_video" and not post.get("video"):
                continue
            items.append((_time(post["at"]), "post", post))
        if feed_filter in ("posts_with_replies", "posts_no_replies", "posts_and_author_threads"):
            for repost in account.get("reposts") or []:
                items.append((_time(repost["at"]), "repost", repost))
        items.sort(key=lambda item: item[0], reverse=True)
        return items

    # -- views ---------------------------------------------------------------------------------
    def _feed_item(
        self,
        account: dict[str, Any],
        item: tuple[datetime, str, dict[str, Any]],
        media_root: str,
    ) -> dict[str, Any]:
        moment, kind, entry = item
        if kind == "repost":
            original_account = self.account(entry["of"]["account"])
            original = self._post_by_id(original_account, entry["of"]["id"])
            repost_key = tid(moment, self._clock(account) + 1)
            return {
                "post": self.post_view(original_account, original, media_root),
                "reason": {
                    "$type": "app.bsky.feed.defs#reasonRepost",
                    "by": self.profile_view(account, media_root),
                    "uri": f"at://{account['did']}/app.bsky.feed.repost/{repost_key}",
                    "cid": fake_cid(f"repost:{account['did']}:{repost_key}"),
                    "indexedAt": _iso(moment + timedelta(milliseconds=337)),
                },
            }
        result: dict[str, Any] = {"post": self.post_view(account, entry, media_root)}
        parent_ref = self._parent(account, entry)
        if parent_ref is not None:
            parent_account, parent = parent_ref
            root_account, root = self._root(parent_account, parent)
            result["reply"] = {
                "root": {
                    "$type": "app.bsky.feed.defs#postView",
                    **self.post_view(root_account, root, media_root),
                },
                "parent": {
                    "$type": "app.bsky.feed.defs#postView",
                    **self.post_view(parent_account, parent, media_root),
                },
            }
        return result

    def profile_view(self, account: dict[str, Any], media_root: str) -> dict[str, Any]:
        did = account["did"]
        return {
            "did": did,
            "handle": account["handle"],
            "displayName": account.get("display_name", ""),
            "avatar": f"{media_root}/avatar-{account['handle']}.png?w=400&h=400",
            "associated": {"chat": {"allowIncoming": "following"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [
                {
                    "src": did,
                    "uri": f"at://{did}/app.bsky.actor.profile/self",
                    "cid": fake_cid(f"profile:{did}"),
                    "val": value,
                    "cts": "1970-01-01T00:00:00.000Z",
                }
                for value in account.get("labels") or []
            ],
            "createdAt": "2024-11-05T09:12:44.120Z",
        }

    def post_view(
        self, account: dict[str, Any], post: dict[str, Any], media_root: str
    ) -> dict[str, Any]:
        did = account["did"]
        moment = _time(post["at"])
        uri = self._uri(account, post)
        text = str(post.get("text", "")).strip()
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "createdAt": _iso(moment),
            "langs": [post.get("lang", "de")],
            "text": text,
        }
        facets = self._facets(text, post)
        if facets:
            record["facets"] = facets
        parent_ref = self._parent(account, post)
        if parent_ref is not None:
            parent_account, parent = parent_ref
            root_account, root = self._root(parent_account, parent)
            record["reply"] = {
                "root": self._strong_ref(root_account, root),
                "parent": self._strong_ref(parent_account, parent),
            }
        record_embed, embed_view = self._embed(account, post, media_root)
        if record_embed is not None:
            record["embed"] = record_embed
        labels = list(post.get("labels") or [])
        if labels:
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": value} for value in labels],
            }
        view: dict[str, Any] = {
            "uri": uri,
            "cid": fake_cid(uri),
            "author": self.profile_view(account, media_root),
            "record": record,
        }
        if embed_view is not None:
            view["embed"] = embed_view
        view.update(
            {
                "bookmarkCount": 0,
                "replyCount": 1,
                "repostCount": 4,
                "likeCount": 27,
                "quoteCount": 0,
                "indexedAt": _iso(moment + timedelta(milliseconds=512)),
                "viewer": {"bookmarked": False, "threadMuted": False, "embeddingDisabled": False},
                "labels": [
                    {
                        "src": did,
                        "uri": uri,
                        "cid": fake_cid(uri),
                        "val": value,
                        "cts": _iso(moment),
                    }
                    for value in labels
                ],
            }
        )
        return view

    def _facets(self, text: str, post: dict[str, Any]) -> list[dict[str, Any]]:
        data = text.encode("utf-8")
        facets: list[tuple[int, int, dict[str, Any]]] = []

        def add(start_char: int, end_char: int, feature: dict[str, Any]) -> None:
            start = len(text[:start_char].encode("utf-8"))
            end = start + len(text[start_char:end_char].encode("utf-8"))
            facets.append((start, end, feature))

        for link in post.get("links") or []:
            position = text.find(link["text"])
            if position < 0:
                raise ValueError(f"link text {link['text']!r} not in post {post.get('id')}")
            add(
                position,
                position + len(link["text"]),
                {"$type": "app.bsky.richtext.facet#link", "uri": link["uri"]},
            )
        for match in _TAG.finditer(text):
            add(
                match.start(),
                match.end(),
                {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)},
            )
        for match in _MENTION.finditer(text):
            try:
                mentioned = self.account(match.group(1))
            except KeyError:
                continue
            add(
                match.start(),
                match.end(),
                {"$type": "app.bsky.richtext.facet#mention", "did": mentioned["did"]},
            )
        facets.sort(key=lambda f: f[0])
        assert all(0 <= s < e <= len(data) for s, e, _ in facets)
        return [
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": start, "byteEnd": end},
                "features": [feature],
            }
            for start, end, feature in facets
        ]

    def _embed(
        self, account: dict[str, Any], post: dict[str, Any], media_root: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The embed as stored in the record and as the AppView shows it (``#view``)."""
        did = account["did"]
        if post.get("images"):
            records, views = [], []
            for image in post["images"]:
                query = "?gps=1" if image.get("gps") else ""
                blob = fake_cid(f"blob:{image['seed']}", "bafkrei")
                records.append(
                    {
                        "alt": image.get("alt", ""),
                        "aspectRatio": {"height": 1200, "width": 1600},
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": blob},
                            "mimeType": "image/jpeg",
                            "size": 734112,
                        },
                    }
                )
                views.append(
                    {
                        "thumb": f"{media_root}/{image['seed']}.jpg?w=640&h=480",
                        "fullsize": f"{media_root}/{image['seed']}.jpg{query}",
                        "alt": image.get("alt", ""),
                        "aspectRatio": {"height": 1200, "width": 1600},
                    }
                )
            return (
                {"$type": "app.bsky.embed.images", "images": records},
                {"$type": "app.bsky.embed.images#view", "images": views},
            )
        if post.get("video"):
            video = post["video"]
            blob = fake_cid(f"blob:{video['seed']}", "bafkrei")
            watch = f"{media_root.rsplit('/media', 1)[0]}/bluesky/video/{did}/{blob}"
            ratio = {"height": 1080, "width": 1920}
            return (
                {
                    "$type": "app.bsky.embed.video",
                    "video": {
                        "$type": "blob",
                        "ref": {"$link": blob},
                        "mimeType": "video/mp4",
                        "size": 38112731,
                    },
                    "alt": video.get("alt", ""),
                    "aspectRatio": ratio,
                },
                {
                    "$type": "app.bsky.embed.video#view",
                    "cid": blob,
                    "playlist": f"{watch}/playlist.m3u8",
                    "thumbnail": f"{media_root}/{video['seed']}-poster.jpg?w=1280&h=720",
                    "alt": video.get("alt", ""),
                    "aspectRatio": ratio,
                },
            )
        if post.get("external"):
            external = post["external"]
            record_external: dict[str, Any] = {
                "uri": external["uri"],
                "title": external.get("title", ""),
                "description": external.get("description", ""),
            }
            view_external = dict(record_external)
            if external.get("thumb_seed"):
                record_external["thumb"] = {
                    "$type": "blob",
                    "ref": {"$link": fake_cid(f"blob:{external['thumb_seed']}", "bafkrei")},
                    "mimeType": "image/jpeg",
                    "size": 81233,
                }
                view_external["thumb"] = f"{media_root}/{external['thumb_seed']}.jpg?w=800&h=420"
            return (
                {"$type": "app.bsky.embed.external", "external": record_external},
                {"$type": "app.bsky.embed.external#view", "external": view_external},
            )
        if post.get("quote"):
            quote = post["quote"]
            quoted_account = self.account(quote["account"])
            uri = f"at://{quoted_account['did']}/app.bsky.feed.post/{quote.get('rkey', '')}"
            try:
                quoted = self._post_by_id(quoted_account, quote["id"])
            except KeyError:
                return (
                    {
                        "$type": "app.bsky.embed.record",
                        "record": {"uri": uri, "cid": fake_cid(uri)},
                    },
                    {
                        "$type": "app.bsky.embed.record#view",
                        "record": {
                            "$type": "app.bsky.embed.record#viewNotFound",
                            "uri": uri,
                            "notFound": True,
                        },
                    },
                )
            quoted_view = self.post_view(quoted_account, quoted, media_root)
            view_record: dict[str, Any] = {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": quoted_view["uri"],
                "cid": quoted_view["cid"],
                "author": quoted_view["author"],
                "value": quoted_view["record"],
                "labels": quoted_view["labels"],
                "likeCount": 61,
                "replyCount": 4,
                "repostCount": 22,
                "quoteCount": 3,
                "indexedAt": quoted_view["indexedAt"],
            }
            if "embed" in quoted_view:
                view_record["embeds"] = [quoted_view["embed"]]
            return (
                {
                    "$type": "app.bsky.embed.record",
                    "record": {"uri": quoted_view["uri"], "cid": quoted_view["cid"]},
                },
                {"$type": "app.bsky.embed.record#view", "record": view_record},
            )
        return None, None

    # -- references ----------------------------------------------------------------------------
    def _clock(self, account: dict[str, Any]) -> int:
        return int(hashlib.sha256(account["did"].encode()).hexdigest()[:3], 16) & 0x3FE

    def _uri(self, account: dict[str, Any], post: dict[str, Any]) -> str:
        rkey = post.get("rkey") or tid(_time(post["at"]), self._clock(account))
        return f"at://{account['did']}/app.bsky.feed.post/{rkey}"

    def _strong_ref(self, account: dict[str, Any], post: dict[str, Any]) -> dict[str, str]:
        uri = self._uri(account, post)
        return {"uri": uri, "cid": fake_cid(uri)}

    def _post_by_id(self, account: dict[str, Any], post_id: str) -> dict[str, Any]:
        for post in account["posts"]:
            if post.get("id") == post_id:
                found: dict[str, Any] = post
                return found
        raise KeyError(post_id)

    def _parent(
        self, account: dict[str, Any], post: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if post.get("reply_to"):
            return account, self._post_by_id(account, post["reply_to"])
        if post.get("reply_to_other"):
            other = self.account(post["reply_to_other"]["account"])
            return other, self._post_by_id(other, post["reply_to_other"]["id"])
        return None

    def _root(
        self, account: dict[str, Any], post: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        parent = self._parent(account, post)
        return (account, post) if parent is None else self._root(*parent)
