"""Mastodon: the public statuses of one account on any instance.

API reference: https://docs.joinmastodon.org/methods/accounts/#statuses and
https://docs.joinmastodon.org/api/guidelines/#pagination

- The account is resolved once with ``/api/v1/accounts/lookup`` and its id kept in the state.
- A first run pages backwards from the newest status (``Link: rel="next"``, ``max_id``) up to
  ``max_pages``. Later runs ask for what is newer than the newest status we hold with
  ``min_id`` and follow ``rel="prev"``: ``since_id`` would return the newest page only and
  silently skip the rest when more than one page is new.
- Only ``public`` statuses are mirrored: ``unlisted`` (kept out of timelines on purpose),
  ``private`` (followers only) and ``direct`` never are. Replies to other people are
  conversations with citizens and are not archived; replies to the account itself
  (self-threads) are.
- A boost becomes a post with ``repost_of`` set to the original author.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import httpx

from ..clean.html import html_to_text, sanitize_html
from ..clean.links import clean_url
from ..errors import PayloadError
from ..model import LinkCard, Media, MediaKind, Origin, Poll, PollOption, Post, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Secret, Source

LOOKUP_PATH = "/api/v1/accounts/lookup"  # https://docs.joinmastodon.org/methods/accounts/#lookup
STATUSES_PATH = "/api/v1/accounts/{id}/statuses"
PAGE_LIMIT = 40  # the documented maximum for account statuses
# "unlisted" posts are readable on the profile but kept out of public timelines on purpose:
# the city chose less reach, so the mirror does not publish them either.
PUBLIC_VISIBILITIES = frozenset({"public"})
_MEDIA_KINDS: dict[str, MediaKind] = {
    "image": "image",
    "gifv": "gifv",
    "video": "video",
    "audio": "audio",
}


class MastodonSource(Source):
    name: ClassVar[str] = "mastodon"
    label: ClassVar[str] = "Mastodon"
    docs: ClassVar[str] = "plattformen/mastodon.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param("instance", "the host name of the Mastodon server", example="musterstadt.social"),
        Param("handle", "the account's user name on that server, without @", example="stadt"),
    )
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret(
            "token",
            "an access token with read:statuses, only for instances that require sign-in",
            required=False,
        ),
    )
    default_api_base: ClassVar[str] = "https://{instance}"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        headers = {"Accept": "application/json"}
        token = account.secrets.get("token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        state = context.state
        account_id = state.get("account_id")
        if not account_id:
            account_id = self._lookup(context, headers)
            state["account_id"] = account_id
        url = f"{account.api_base}{STATUSES_PATH.format(id=account_id)}"
        newest = state.get("newest_id")
        params: dict[str, Any] | None
        if newest:
            params, direction = {"min_id": newest, "limit": PAGE_LIMIT}, "prev"
        else:
            params, direction = {"limit": PAGE_LIMIT}, "next"
        highest = newest
        for _page in range(context.max_pages):
            response = context.http.get(url, params=params, headers=headers, account=account.key)
            statuses = _json_list(context, response)
            if not statuses:
                break
            for raw in statuses:
                if not isinstance(raw, dict) or "id" not in raw:
                    context.log.warning("%s: skipped a status without id", account.key)
                    continue
                highest = _max_id(highest, str(raw["id"]))
                if not is_archivable(raw, account_id):
                    continue
                try:
                    yield Fetched(to_post(raw, account), raw)
                except (KeyError, TypeError, ValueError) as exc:
                    context.log.warning(
                        "%s: skipped malformed status %s (%s)", account.key, raw.get("id"), exc
                    )
            next_url = response.links.get(direction, {}).get("url")
            if not next_url:
                break
            url, params = next_url, None
        if highest:
            state["newest_id"] = highest

    def _lookup(self, context: FetchContext, headers: dict[str, str]) -> str:
        account = context.account
        data = context.http.get_json(
            f"{account.api_base}{LOOKUP_PATH}",
            params={"acct": account.params["handle"].lstrip("@")},
            headers=headers,
            account=account.key,
        )
        if not isinstance(data, dict) or not data.get("id"):
            raise PayloadError(
                "account lookup returned no account id",
                account=account.key,
                url=f"{account.api_base}{LOOKUP_PATH}",
            )
        return str(data["id"])


def _json_list(context: FetchContext, response: httpx.Response) -> list[Any]:
    from ..http import parse_json

    data = parse_json(response, context.http.redact(str(response.url)), context.account.key)
    if not isinstance(data, list):
        raise PayloadError(
            "expected a list of statuses",
            account=context.account.key,
            url=context.http.redact(str(response.url)),
        )
    return data


def _max_id(current: str | None, candidate: str) -> str:
    """Mastodon ids are decimal strings: compare by length, then lexically."""
    if current is None:
        return candidate
    return max(current, candidate, key=lambda value: (len(value), value))


def is_archivable(raw: dict[str, Any], account_id: str) -> bool:
    """Public statuses of the account, and of its replies only those to itself."""
    if raw.get("visibility") not in PUBLIC_VISIBILITIES:
        return False
    reply_account = raw.get("in_reply_to_account_id")
    return reply_account is None or str(reply_account) == str(account_id)


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one Mastodon status (API entity) into a Post. Pure: no I/O."""
    native_id = str(raw["id"])
    shown = raw.get("reblog") or raw
    repost_of = None
    if raw.get("reblog"):
        author = shown.get("account") or {}
        repost_of = Origin(
            name=author.get("display_name") or author.get("username") or "",
            handle="@" + str(author.get("acct", "")),
            url=clean_url(shown.get("url") or shown.get("uri") or ""),
        )
    reply_to = None
    if raw.get("in_reply_to_id") and not raw.get("reblog"):
        reply_to = post_id(MastodonSource.name, account.key, str(raw["in_reply_to_id"]))
    return Post(
        id=post_id(MastodonSource.name, account.key, native_id),
        platform=MastodonSource.name,
        account=account.key,
        native_id=native_id,
        url=clean_url(raw.get("url") or raw.get("uri") or ""),
        published=normalize_time(raw["created_at"]),
        edited=normalize_time(shown["edited_at"]) if shown.get("edited_at") else None,
        text_html=sanitize_html(shown.get("content") or ""),
        language=shown.get("language") or None,
        content_warning=html_to_text(shown.get("spoiler_text") or ""),
        media=tuple(to_media(item, shown) for item in shown.get("media_attachments") or []),
        card=to_card(shown.get("card")),
        poll=to_poll(shown.get("poll")),
        reply_to=reply_to,
        repost_of=repost_of,
        hashtags=tuple(str(tag["name"]) for tag in shown.get("tags") or [] if tag.get("name")),
        pinned=bool(raw.get("pinned")),
    )


def to_media(item: dict[str, Any], status: dict[str, Any]) -> Media:
    kind = _MEDIA_KINDS.get(str(item.get("type")), "image")
    original = (item.get("meta") or {}).get("original") or {}
    link_out = clean_url(status.get("url") or status.get("uri") or "")
    if kind == "image":
        source = item.get("url") or item.get("remote_url") or ""
        return Media(
            kind=kind,
            alt=(item.get("description") or "").strip(),
            source=source,
            width=original.get("width"),
            height=original.get("height"),
        )
    # Video, gifv and audio are not re-hosted: the site shows the poster and links out.
    return Media(
        kind=kind,
        alt=(item.get("description") or "").strip(),
        source=item.get("preview_url") or "",
        url=link_out,
        width=original.get("width"),
        height=original.get("height"),
    )


def to_card(card: dict[str, Any] | None) -> LinkCard | None:
    if not card or not card.get("url"):
        return None
    url = clean_url(str(card["url"]))
    if not url:
        return None
    image = None
    if card.get("image"):
        image = Media(kind="image", alt=card.get("image_description") or "", source=card["image"])
    return LinkCard(
        url=url,
        title=str(card.get("title") or "").strip(),
        description=str(card.get("description") or "").strip(),
        image=image,
    )


def to_poll(poll: dict[str, Any] | None) -> Poll | None:
    if not poll:
        return None
    return Poll(
        options=tuple(
            PollOption(title=str(o.get("title", "")), votes=o.get("votes_count"))
            for o in poll.get("options") or []
        ),
        expires_at=normalize_time(poll["expires_at"]) if poll.get("expires_at") else None,
        closed=bool(poll.get("expired")),
        voters=poll.get("voters_count"),
    )
