"""The X part of the demo server: renders ``data/x.yml`` as X API v2 responses.

Routes (under ``/x``, so an account's ``api_base`` is ``<server>/x``):

- ``GET /x/2/users/by/username/<username>``: https://docs.x.com/x-api/users/lookup/introduction
- ``GET /x/2/users/<id>/tweets``: https://docs.x.com/x-api/posts/timelines/introduction, with
  ``max_results`` (5-100), ``pagination_token``/``meta.next_token``, ``since_id`` and the
  ``tweet.fields``, ``expansions`` and ``media.fields`` parameters: like the real API it returns
  only the fields asked for (``id``, ``text`` and ``edit_history_tweet_ids`` always).

Shapes follow the data dictionary (https://docs.x.com/x-api/fundamentals/data-dictionary) and
recorded responses: ``text`` is HTML-escaped, entity offsets count code points, every link is a
``t.co`` link whose entity carries ``expanded_url``, photos and videos get a ``t.co`` link of
their own at the end of the text, a post longer than 280 characters has a ``note_tweet``, an
edited post shows its newest version with every id in ``edit_history_tweet_ids``. Responses
carry ``x-rate-limit-*`` headers (the reset as a Unix time); a wrong bearer token gets X's 401
problem object.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import re
import threading
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .server import Request, Response

DATA_FILE = Path(__file__).parent / "data" / "x.yml"
SNOWFLAKE_EPOCH_MS = 1288834974657
TEXT_LIMIT = 280
DEFAULT_TWEET_FIELDS = frozenset({"id", "text", "edit_history_tweet_ids"})
DEFAULT_MEDIA_FIELDS = frozenset({"media_key", "type"})
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_MENTION = re.compile(r"(?<!\w)@(\w{1,15})")
_ROUTE_USER = re.compile(r"^/x/2/users/by/username/([A-Za-z0-9_]{1,15})$")
_ROUTE_TIMELINE = re.compile(r"^/x/2/users/(\d+)/tweets$")


def snowflake(moment: str | datetime, sequence: int = 0) -> str:
    """A Snowflake id for ``moment``: the time in the upper bits, as X's ids carry it."""
    when = (
        moment
        if isinstance(moment, datetime)
        else datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    )
    milliseconds = int(when.astimezone(UTC).timestamp() * 1000)
    return str(((milliseconds - SNOWFLAKE_EPOCH_MS) << 22) | (sequence & 0x3FFFFF))


def _iso(moment: Any) -> str:
    when = (
        moment
        if isinstance(moment, datetime)
        else datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    )
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Response:
    return Response.json(
        {"title": title, "detail": detail, "type": kind, "status": status}, status=status
    )


class XDemo:
    """The demo accounts' posts, rendered on request; tests may change them while it runs."""

    def __init__(self, data_file: Path = DATA_FILE) -> None:
        data = yaml.safe_load(data_file.read_text(encoding="utf-8"))
        self.accounts: list[dict[str, Any]] = data["accounts"]
        self.token: str | None = None  # None: any bearer token is accepted
        self.remaining = 1500
        self.deleted: set[str] = set()  # post keys whose posts are gone
        self._lock = threading.Lock()

    # -- test hooks ----------------------------------------------------------------------------
    def add_post(self, username: str, post: dict[str, Any]) -> None:
        self._account(username)["posts"].append(post)

    def edit_post(self, key: str, at: str, text: str) -> None:
        """Edit a post as X does: a new version with a new id joins the edit history."""
        post = self.post(key)
        versions = post.setdefault("versions", [{"at": post.pop("at"), "text": post.pop("text")}])
        versions.append({"at": at, "text": text})

    def post(self, key: str) -> dict[str, Any]:
        for account in self.accounts:
            for post in account["posts"]:
                if post["key"] == key:
                    found: dict[str, Any] = post
                    return found
        raise KeyError(key)

    def ids(self, key: str) -> list[str]:
        """The ids of every version of a post, oldest first."""
        post = self.post(key)
        sequence = zlib.crc32(key.encode()) & 0xFFF
        versions = post.get("versions") or [post]
        return [snowflake(v["at"], sequence + i) for i, v in enumerate(versions)]

    def _account(self, username: str) -> dict[str, Any]:
        for account in self.accounts:
            if account["username"].lower() == username.lower():
                found: dict[str, Any] = account
                return found
        raise KeyError(username)

    # -- routing -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | None:
        if not request.path.startswith("/x/"):
            return None
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not token or (self.token is not None and token != self.token):
            return _problem(401, "Unauthorized", "Unauthorized")
        match = _ROUTE_USER.match(request.path)
        if match:
            try:
                account = self._account(match.group(1))
            except KeyError:
                name = match.group(1)
                return self._json(
                    {
                        "errors": [
                            {
                                "value": name,
                                "detail": f"Could not find user with username: [{name}].",
                                "title": "Not Found Error",
                                "resource_type": "user",
                                "parameter": "username",
                                "resource_id": name,
                                "type": "https://api.x.com/2/problems/resource-not-found",
                            }
                        ]
                    }
                )
            return self._json(
                {
                    "data": {
                        "id": account["id"],
                        "name": account["name"],
                        "username": account["username"],
                    }
                }
            )
        match = _ROUTE_TIMELINE.match(request.path)
        if match:
            return self._timeline(request, match.group(1))
        return None

    def _json(self, data: Any, status: int = 200) -> Response:
        with self._lock:
            self.remaining = max(0, self.remaining - 1)
            remaining = self.remaining
        headers = {
            "x-rate-limit-limit": "1500",
            "x-rate-limit-remaining": str(max(1, remaining)),
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }
        return Response.json(data, status=status, headers=headers)

    def _timeline(self, request: Request, user_id: str) -> Response:
        account = next((a for a in self.accounts if a["id"] == user_id), None)
        if account is None:
            return self._json(
                {
                    "errors": [
                        {
                            "value": user_id,
                            "detail": f"Could not find user with id: [{user_id}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "id",
                            "resource_id": user_id,
                            "type": "https://api.x.com/2/problems/resource-not-found",
                        }
                    ]
                }
            )
        try:
            limit = int(request.param("max_results", "10") or 10)
        except ValueError:
            limit = -1
        if not 5 <= limit <= 100:
            return _problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.x.com/2/problems/invalid-request",
            )
        fields = DEFAULT_TWEET_FIELDS | _set(request.param("tweet.fields"))
        media_fields = DEFAULT_MEDIA_FIELDS | _set(request.param("media.fields"))
        expansions = _set(request.param("expansions"))
        rendered = [
            self.render(account, post, request.base)
            for post in account["posts"]
            if post["key"] not in self.deleted
        ]
        rendered.sort(key=lambda item: _order(item["tweet"]["id"]), reverse=True)
        since_id = request.param("since_id")
        if since_id:
            rendered = [r for r in rendered if _order(r["tweet"]["id"]) > _order(since_id)]
        token = request.param("pagination_token")
        if token:
            try:
                before = base64.urlsafe_b64decode(token.encode()).decode()
            except ValueError:
                return _problem(400, "Invalid Request", "Invalid pagination_token.")
            rendered = [r for r in rendered if _order(r["tweet"]["id"]) < _order(before)]
        page, rest = rendered[:limit], rendered[limit:]
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return self._json({"meta": meta})
        meta["newest_id"] = page[0]["tweet"]["id"]
        meta["oldest_id"] = page[-1]["tweet"]["id"]
        if rest:
            meta["next_token"] = base64.urlsafe_b64encode(page[-1]["tweet"]["id"].encode()).decode()
        included_tweets: dict[str, dict[str, Any]] = {}
        included_users: dict[str, dict[str, Any]] = {}
        media: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in page:
            if "attachments.media_keys" in expansions:
                media.extend(item["media"])
            if "referenced_tweets.id" in expansions:
                for reference in item["referenced"]:
                    if reference.get("gone"):
                        errors.append(_not_found(reference["tweet"]["id"]))
                        continue
                    included_tweets[reference["tweet"]["id"]] = reference["tweet"]
                    if "referenced_tweets.id.author_id" in expansions:
                        author = reference["author"]
                        included_users[author["id"]] = author
        body: dict[str, Any] = {"data": [_only(item["tweet"], fields) for item in page]}
        includes: dict[str, Any] = {}
        if media:
            includes["media"] = [_only(m, media_fields) for m in media]
        if included_users:
            includes["users"] = list(included_users.values())
        if included_tweets:
            includes["tweets"] = [_only(t, fields) for t in included_tweets.values()]
        if includes:
            body["includes"] = includes
        if errors:
            body["errors"] = errors
        body["meta"] = meta
        return self._json(body)

    # -- entities ------------------------------------------------------------------------------
    def render(self, account: dict[str, Any], post: dict[str, Any], base: str) -> dict[str, Any]:
        """One post as the API shows it, with its media and the posts it refers to."""
        ids = self.ids(post["key"])
        latest = ids[-1]
        versions = post.get("versions") or [post]
        current = versions[-1]
        username = account["username"]
        referenced: list[dict[str, Any]] = []
        references: list[dict[str, str]] = []
        text = str(current.get("text") or "").strip()
        tail: list[tuple[str, dict[str, Any]]] = []  # t.co links X appends, with their entity
        media: list[dict[str, Any]] = []
        for index, image in enumerate(post.get("images") or [], start=1):
            key = f"3_{latest}{index}"
            query = "?gps=1" if image.get("gps") else ""
            media.append(
                {
                    "media_key": key,
                    "type": "photo",
                    "url": f"{base}/media/{image['seed']}.jpg{query}",
                    "alt_text": image.get("alt"),
                    "width": 1600,
                    "height": 1200,
                }
            )
            tail.append(
                (
                    f"{base}/photo",
                    {
                        "expanded": f"https://x.com/{username}/status/{latest}/photo/{index}",
                        "media_key": key,
                    },
                )
            )
        for index, video in enumerate(post.get("videos") or [], start=1):
            key = f"7_{latest}{index}"
            media.append(
                {
                    "media_key": key,
                    "type": "video",
                    "preview_image_url": f"{base}/media/{video['seed']}-poster.jpg?w=1280&h=720",
                    "alt_text": video.get("alt"),
                    "width": 1280,
                    "height": 720,
                    "variants": [
                        {
                            "bit_rate": 2176000,
                            "content_type": "video/mp4",
                            "url": f"{base}/media/{video['seed']}.mp4",
                        }
                    ],
                }
            )
            tail.append(
                (
                    f"{base}/video",
                    {
                        "expanded": f"https://x.com/{username}/status/{latest}/video/{index}",
                        "media_key": key,
                    },
                )
            )
        tweet: dict[str, Any] = {
            "id": latest,
            "edit_history_tweet_ids": ids,
            "created_at": _iso(current["at"]),
            "author_id": account["id"],
            "conversation_id": latest,
            "lang": post.get("lang", "de"),
            "possibly_sensitive": bool(post.get("sensitive")),
        }
        if post.get("repost"):
            original_account, original = self._find(post["repost"])
            rendered = self.render(original_account, original, base)
            original_tweet = rendered["tweet"]
            body = html.unescape(original_tweet.get("note_tweet", original_tweet)["text"])
            text = f"RT @{original_account['username']}: {body}"
            if len(text) > 140:
                text = text[:139] + "…"
            references.append({"type": "retweeted", "id": original_tweet["id"]})
            referenced.append(
                {
                    "tweet": original_tweet,
                    "author": _user(original_account),
                    "gone": post["repost"] in self.deleted,
                }
            )
            media = rendered["media"]
            if media:
                tweet["attachments"] = {"media_keys": [m["media_key"] for m in media]}
            tail = []
            tweet.pop("lang")
            tweet["lang"] = original_tweet.get("lang", "de")
        if post.get("quote"):
            quoted_account, quoted = self._find(post["quote"])
            quoted_tweet = self.render(quoted_account, quoted, base)["tweet"]
            references.append({"type": "quoted", "id": quoted_tweet["id"]})
            referenced.append(
                {
                    "tweet": quoted_tweet,
                    "author": _user(quoted_account),
                    "gone": post["quote"] in self.deleted,
                }
            )
            tail.append(
                (
                    f"{base}/quote",
                    {
                        "expanded": f"https://x.com/{quoted_account['username']}/status/"
                        f"{quoted_tweet['id']}"
                    },
                )
            )
        if post.get("reply_to"):
            parent_account, parent = self._find(post["reply_to"])
            parent_tweet = self.render(parent_account, parent, base)["tweet"]
            references.append({"type": "replied_to", "id": parent_tweet["id"]})
            referenced.append({"tweet": parent_tweet, "author": _user(parent_account)})
            tweet["in_reply_to_user_id"] = parent_account["id"]
            tweet["conversation_id"] = parent_tweet["conversation_id"]
        citizen = post.get("reply_to_citizen")
        if citizen:
            parent_id = snowflake(
                datetime.fromisoformat(_iso(current["at"]).replace("Z", "+00:00")).replace(
                    minute=0
                ),
                7,
            )
            citizen_user = {
                "id": citizen["id"],
                "name": citizen["name"],
                "username": citizen["username"],
            }
            parent_tweet = {
                "id": parent_id,
                "text": html.escape(citizen["text"], quote=False),
                "edit_history_tweet_ids": [parent_id],
                "created_at": _iso(current["at"]),
                "author_id": citizen["id"],
                "conversation_id": parent_id,
                "lang": "de",
            }
            references.append({"type": "replied_to", "id": parent_id})
            referenced.append({"tweet": parent_tweet, "author": citizen_user})
            tweet["in_reply_to_user_id"] = citizen["id"]
            tweet["conversation_id"] = parent_id
        if references:
            tweet["referenced_tweets"] = references
        if media and "attachments" not in tweet:
            tweet["attachments"] = {"media_keys": [m["media_key"] for m in media]}
        full, entities = _with_links(text, tail, latest)
        if len(full) > TEXT_LIMIT and not post.get("repost"):
            tweet["note_tweet"] = {"text": full, "entities": entities}
            cut = TEXT_LIMIT - 1
            for group in entities.values():
                for entity in group:
                    if entity["start"] < cut < entity["end"]:
                        cut = entity["start"]
            tweet["text"] = full[:cut].rstrip() + "…"
            tweet["entities"] = {
                name: [e for e in group if e["end"] <= cut] for name, group in entities.items()
            }
        else:
            tweet["text"] = full
            tweet["entities"] = entities
        tweet["entities"] = {k: v for k, v in tweet["entities"].items() if v}
        if not tweet["entities"]:
            del tweet["entities"]
        return {"tweet": tweet, "media": media, "referenced": referenced}

    def _find(self, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for account in self.accounts:
            for post in account["posts"]:
                if post["key"] == key:
                    return account, post
        raise KeyError(key)


def _with_links(
    text: str, tail: list[tuple[str, dict[str, Any]]], tweet_id: str
) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """The escaped text with t.co links, and its entities with code-point offsets."""
    pieces: list[str] = []
    urls: list[dict[str, Any]] = []
    length = 0

    def add_link(original: str, expanded: str, extra: dict[str, Any]) -> None:
        nonlocal length
        code = base64.b32encode(hashlib.sha256(f"{tweet_id}{original}".encode()).digest())
        short = "https://t.co/" + code.decode()[:10].lower().capitalize()
        display = re.sub(r"^https?://(www\.)?", "", expanded)
        display = display if len(display) <= 26 else display[:25] + "…"
        if extra.get("media_key"):
            display = "pic.x.com/" + short.rsplit("/", 1)[1]
        urls.append(
            {
                "start": length,
                "end": length + len(short),
                "url": short,
                "expanded_url": expanded,
                "display_url": display,
                **extra,
            }
        )
        pieces.append(short)
        length += len(short)

    position = 0
    for match in _URL.finditer(text):
        chunk = html.escape(text[position : match.start()], quote=False)
        pieces.append(chunk)
        length += len(chunk)
        add_link(match.group(0), match.group(0), {})
        position = match.end()
    chunk = html.escape(text[position:], quote=False)
    pieces.append(chunk)
    length += len(chunk)
    for original, entity in tail:
        pieces.append(" ")
        length += 1
        extra = {k: v for k, v in entity.items() if k != "expanded"}
        add_link(original, entity["expanded"], extra)
    full = "".join(pieces)
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(full)
    ]
    mentions = [
        {"start": m.start(), "end": m.end(), "username": m.group(1)}
        for m in _MENTION.finditer(full)
    ]
    return full, {"urls": urls, "hashtags": hashtags, "mentions": mentions}


def _user(account: dict[str, Any]) -> dict[str, str]:
    return {"id": account["id"], "name": account["name"], "username": account["username"]}


def _not_found(tweet_id: str) -> dict[str, Any]:
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with referenced_tweets.id: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "referenced_tweets.id",
        "resource_id": tweet_id,
        "type": "https://api.x.com/2/problems/resource-not-found",
    }


def _set(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


def _only(item: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in item.items() if k in fields}


def _order(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)
