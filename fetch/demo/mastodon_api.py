"""The Mastodon part of the demo server: renders the demo data as Mastodon API entities.

Shapes follow https://docs.joinmastodon.org/entities/Status/ and the pagination rules of
https://docs.joinmastodon.org/api/guidelines/#pagination (newest first; ``max_id``,
``since_id`` and ``min_id``; ``Link`` headers with ``rel="next"`` and ``rel="prev"``), checked
against recorded responses of real instances.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from .server import Request, Response

_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")
_TAG = re.compile(r"(?<![\w/])#(\w+)")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@([\w.-]+\w)")
_ROUTE = re.compile(r"^/mastodon/([^/]+)(/api/v1/.*)$")


def _order(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)


class MastodonDemo:
    def __init__(self, data: dict[str, Any]) -> None:
        self.accounts = [a for a in data["accounts"] if a.get("platform") == "mastodon"]
        self.remaining = 300

    def add_post(self, username: str, post: dict[str, Any]) -> None:
        """Publish a new post while the server runs (tests of incremental fetching)."""
        self._account_by_name(username)["posts"].append(post)

    def edit_post(self, post_id: str, **changes: Any) -> None:
        for account in self.accounts:
            for post in account["posts"]:
                if str(post["id"]) == post_id:
                    post.update(changes)
                    return
        raise KeyError(post_id)

    def remove_post(self, post_id: str) -> None:
        for account in self.accounts:
            account["posts"] = [p for p in account["posts"] if str(p["id"]) != post_id]

    def _account_by_name(self, username: str) -> dict[str, Any]:
        for account in self.accounts:
            if account["username"] == username:
                found: dict[str, Any] = account
                return found
        raise KeyError(username)

    # -- routing -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | None:
        match = _ROUTE.match(request.path)
        if not match:
            return None
        instance, path = match.groups()
        root = f"{request.base}/mastodon/{instance}"
        if path == "/api/v1/accounts/lookup":
            acct = (request.param("acct") or "").lstrip("@").split("@")[0]
            for account in self.accounts:
                if account["username"] == acct and account["instance"] == instance:
                    return self._json(self.account_entity(account, root))
            return self._json({"error": "Record not found"}, status=404)
        found = re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path)
        if found:
            return self._statuses(request, root, found.group(1))
        found = re.fullmatch(r"/api/v1/statuses/(\d+)/history", path)
        if found:
            return self._history(root, found.group(1))
        found = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if found:
            for account in self.accounts:
                for post in account["posts"]:
                    if str(post["id"]) == found.group(1) and post.get("visibility", "public") in (
                        "public",
                        "unlisted",
                    ):
                        return self._json(self.status_entity(account, post, root))
            return self._json({"error": "Record not found"}, status=404)
        return None

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        self.remaining = max(0, self.remaining - 1)
        reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        rate = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(max(1, self.remaining)),
            "X-RateLimit-Reset": reset,
        }
        return Response.json(data, status=status, headers={**rate, **(headers or {})})

    def _statuses(self, request: Request, root: str, account_id: str) -> Response:
        account = next((a for a in self.accounts if str(a["id"]) == account_id), None)
        if account is None:
            return self._json({"error": "Record not found"}, status=404)
        limit = min(int(request.param("limit", "20") or 20), 40)
        posts = sorted(account["posts"], key=lambda p: _order(str(p["id"])), reverse=True)
        if request.param("pinned") in ("1", "true"):
            posts = [p for p in posts if p.get("pinned")]
        # Followers-only and direct posts never reach an unauthenticated reader.
        posts = [p for p in posts if p.get("visibility", "public") in ("public", "unlisted")]
        max_id, since_id, min_id = (request.param(k) for k in ("max_id", "since_id", "min_id"))
        if max_id:
            posts = [p for p in posts if _order(str(p["id"])) < _order(max_id)]
        if since_id:
            posts = [p for p in posts if _order(str(p["id"])) > _order(since_id)]
        if min_id:
            newer = [p for p in posts if _order(str(p["id"])) > _order(min_id)]
            page = sorted(newer, key=lambda p: _order(str(p["id"])))[:limit]
            page.reverse()
        else:
            page = posts[:limit]
        links = []
        base = f"{root}/api/v1/accounts/{account_id}/statuses"
        if page:
            links.append(f'<{base}?limit={limit}&max_id={page[-1]["id"]}>; rel="next"')
            links.append(f'<{base}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"')
        headers = {"Link": ", ".join(links)} if links else {}
        return self._json([self.status_entity(account, p, root) for p in page], headers=headers)

    def _history(self, root: str, status_id: str) -> Response:
        """``/api/v1/statuses/:id/history``: every version, oldest first, the current one last
        (https://docs.joinmastodon.org/methods/statuses/#history). An unedited status has one."""
        for account in self.accounts:
            for post in account["posts"]:
                if str(post["id"]) != status_id or post.get("visibility", "public") not in (
                    "public",
                    "unlisted",
                ):
                    continue
                instance = account["instance"]
                versions = [
                    *(post.get("history") or []),
                    {**post, "at": post.get("edited_at") or post["at"]},
                ]
                return self._json(
                    [
                        {
                            "content": text_to_html(version.get("text", ""), instance),
                            "spoiler_text": version.get("cw", ""),
                            "sensitive": bool(version.get("cw")),
                            "created_at": _iso(version["at"]),
                            "account": self.account_entity(account, root),
                            "media_attachments": [],
                            "emojis": [],
                        }
                        for version in versions
                    ]
                )
        return self._json({"error": "Record not found"}, status=404)

    # -- entities ------------------------------------------------------------------------------
    def account_entity(self, account: dict[str, Any], root: str) -> dict[str, Any]:
        web = f"https://{account['instance']}/@{account['username']}"
        media_root = root.split("/mastodon/")[0] + "/media"
        return {
            "id": str(account["id"]),
            "username": account["username"],
            "acct": account["username"],
            "display_name": account.get("display_name", ""),
            "locked": False,
            "bot": False,
            "group": False,
            "created_at": "2022-11-01T00:00:00.000Z",
            "note": f"<p>{text_to_html(account.get('note', ''), account['instance'])}</p>",
            "url": web,
            "uri": f"https://{account['instance']}/users/{account['username']}",
            "avatar": f"{media_root}/avatar-{account['username']}.png?w=400&h=400",
            "followers_count": 12840,
            "following_count": 31,
            "statuses_count": len(account["posts"]),
            "emojis": [],
            "fields": [],
        }

    def status_entity(
        self, account: dict[str, Any], post: dict[str, Any], root: str
    ) -> dict[str, Any]:
        instance = account["instance"]
        media_root = root.split("/mastodon/")[0] + "/media"
        web = f"https://{instance}/@{account['username']}/{post['id']}"
        reply_to = post.get("reply_to")
        boost = post.get("boost")
        status: dict[str, Any] = {
            "id": str(post["id"]),
            "created_at": _iso(post["at"]),
            "in_reply_to_id": str(reply_to) if reply_to else None,
            "in_reply_to_account_id": str(account["id"]) if reply_to else None,
            "sensitive": bool(post.get("cw")),
            "spoiler_text": post.get("cw", ""),
            "visibility": post.get("visibility", "public"),
            "language": None if boost else post.get("lang", "de"),
            "uri": f"https://{instance}/users/{account['username']}/statuses/{post['id']}",
            "url": None if boost else web,
            "replies_count": 0,
            "reblogs_count": 3,
            "favourites_count": 12,
            "edited_at": _iso(post["edited_at"]) if post.get("edited_at") else None,
            "pinned": bool(post.get("pinned")),
            "content": "" if boost else text_to_html(post.get("text", ""), instance),
            "reblog": None,
            "account": self.account_entity(account, root),
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if boost:
            acct = boost["acct"]
            user, _, host = acct.partition("@")
            original_id = str(boost.get("url", "")).rstrip("/").rsplit("/", 1)[-1]
            status["reblog"] = {
                **status,
                "id": original_id,
                "created_at": _iso(boost["at"]),
                "url": boost.get("url"),
                "uri": boost.get("url"),
                "language": boost.get("lang", "de"),
                "content": text_to_html(boost.get("text", ""), host or instance),
                "account": {
                    "id": "1" + original_id[-8:],
                    "username": user,
                    "acct": acct,
                    "display_name": boost.get("display_name", user),
                    "url": f"https://{host or instance}/@{user}",
                },
                "tags": _tags(boost.get("text", ""), host or instance),
                "reblog": None,
                "edited_at": None,
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
            }
            return status
        status["tags"] = _tags(post.get("text", ""), instance)
        status["mentions"] = [
            {"username": u, "acct": f"{u}@{h}", "url": f"https://{h}/@{u}", "id": "1"}
            for u, h in _MENTION.findall(post.get("text", ""))
        ]
        attachments = []
        for index, image in enumerate(post.get("images") or []):
            query = []
            if image.get("gps"):
                query.append("gps=1")
            if image.get("orientation"):
                query.append(f"orientation={image['orientation']}")
            suffix = ("?" + "&".join(query)) if query else ""
            attachments.append(
                {
                    "id": f"{post['id']}{index}",
                    "type": "image",
                    "url": f"{media_root}/{image['seed']}.jpg{suffix}",
                    "preview_url": f"{media_root}/{image['seed']}.jpg?w=640&h=480",
                    "remote_url": None,
                    "meta": {"original": {"width": 1600, "height": 1200}},
                    "description": image.get("alt"),
                    "blurhash": "UAAAAA",
                }
            )
        for index, item in enumerate(post.get("media") or []):
            attachments.append(
                {
                    "id": f"{post['id']}9{index}",
                    "type": item["type"],
                    "url": f"{media_root}/{item['seed']}.mp4",
                    "preview_url": f"{media_root}/{item['seed']}-poster.jpg?w=1280&h=720",
                    "remote_url": None,
                    "meta": {"original": {"width": 1280, "height": 720}},
                    "description": item.get("alt"),
                }
            )
        status["media_attachments"] = attachments
        card = post.get("card")
        if card:
            status["card"] = {
                "url": card["url"],
                "title": card.get("title", ""),
                "description": card.get("description", ""),
                "type": "link",
                "image": f"{media_root}/{card['image_seed']}.jpg?w=800&h=420"
                if card.get("image_seed")
                else None,
                "image_description": "",
                "html": "",
            }
        poll = post.get("poll")
        if poll:
            options = [{"title": t, "votes_count": v} for t, v in poll["options"]]
            status["poll"] = {
                "id": f"p{post['id']}",
                "expires_at": _iso(poll["expires_at"]) if poll.get("expires_at") else None,
                "expired": bool(poll.get("closed")),
                "multiple": False,
                "votes_count": sum(v for _, v in poll["options"]),
                "voters_count": sum(v for _, v in poll["options"]),
                "options": options,
                "emojis": [],
            }
        return status


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _tags(text: str, instance: str) -> list[dict[str, str]]:
    seen: list[str] = []
    for tag in _TAG.findall(text):
        if tag.lower() not in seen:
            seen.append(tag.lower())
    return [{"name": t, "url": f"https://{instance}/tags/{quote(t)}"} for t in seen]


def text_to_html(text: str, instance: str) -> str:
    """Plain text to the HTML Mastodon produces: paragraphs, links with invisible spans, tags."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{_inline(p, instance)}</p>" for p in paragraphs)


def _inline(text: str, instance: str) -> str:
    pieces: list[str] = []
    position = 0
    pattern = re.compile(f"{_URL.pattern}|{_MENTION.pattern}|{_TAG.pattern}")
    for match in pattern.finditer(text):
        pieces.append(html.escape(text[position : match.start()]).replace("\n", "<br />"))
        token = match.group(0)
        if token.startswith("http"):
            scheme, _, rest = token.partition("://")
            shown, hidden = rest[:30], rest[30:]
            ellipsis_class = "ellipsis" if hidden else ""
            pieces.append(
                f'<a href="{html.escape(token)}" target="_blank" rel="nofollow noopener" '
                f'translate="no"><span class="invisible">{scheme}://</span>'
                f'<span class="{ellipsis_class}">{html.escape(shown)}</span>'
                f'<span class="invisible">{html.escape(hidden)}</span></a>'
            )
        elif token.startswith("@"):
            user, _, host = token[1:].partition("@")
            pieces.append(
                f'<span class="h-card" translate="no"><a href="https://{host}/@{user}" '
                f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
            )
        else:
            tag = token[1:]
            pieces.append(
                f'<a href="https://{instance}/tags/{quote(tag.lower())}" class="mention hashtag" '
                f'rel="tag">#<span>{html.escape(tag)}</span></a>'
            )
        position = match.end()
    pieces.append(html.escape(text[position:]).replace("\n", "<br />"))
    return "".join(pieces)
