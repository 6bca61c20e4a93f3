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
- Edits: for a status with ``edited_at`` that we do not hold yet, its earlier versions are read
  once from ``/api/v1/statuses/:id/history`` (https://docs.joinmastodon.org/methods/statuses/#history)
  and kept, sanitized, in ``Post.extra["history"]`` (oldest first); the answer itself stays in
  the raw payload under ``_history``. The site never shows them: earlier versions stay in the
  archive, not on the site. A status re-read with the same ``edited_at`` keeps the history of
  the archived post without asking again. Independently, the archive keeps every earlier
  version of our own normalized post under ``history/`` whenever an archived post changes.
- Pinned statuses (``?pinned=true``) are asked for on the first run and then at most once a
  day (``PINNED_CHECK_INTERVAL``, time kept in the state), so that a run with nothing new stays
  at one request most hours. Unauthenticated answers carry no ``pinned`` field; the ids from
  that request decide ``Post.pinned``, and a status pinned or unpinned since is stored again.
- Custom emoji stay their ``:shortcode:`` text; no emoji image is ever kept.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from dateutil import parser as date_parser

from ..clean.html import sanitize_html
from ..clean.links import clean_url
from ..errors import AuthError, NotFoundError, PayloadError
from ..model import LinkCard, Media, MediaKind, Origin, Poll, PollOption, Post, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Secret, Source

LOOKUP_PATH = "/api/v1/accounts/lookup"  # https://docs.joinmastodon.org/methods/accounts/#lookup
STATUSES_PATH = "/api/v1/accounts/{id}/statuses"
STATUS_PATH = "/api/v1/statuses/{id}"  # https://docs.joinmastodon.org/methods/statuses/#get
HISTORY_PATH = "/api/v1/statuses/{id}/history"  # .../methods/statuses/#history
# Pinned statuses change rarely; asking once a day keeps most hourly runs at one request.
PINNED_CHECK_INTERVAL = timedelta(days=1)
# A custom emoji some servers render into HTML; its alt text is the :shortcode:.
_EMOJI_IMAGE = re.compile(r"<img\b[^>]*?\balt=\"(:[A-Za-z0-9_]+:)\"[^>]*>", re.IGNORECASE)
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
        now = datetime.now(UTC).replace(microsecond=0)
        pinned_due = _pinned_check_due(state.get("pinned_checked_at"), now)
        held_pinned = [str(i) for i in state.get("pinned_ids") or []]
        pinned: dict[str, dict[str, Any]] = {}
        if pinned_due:
            pinned = self._fetch_pinned(context, headers, str(account_id))
            state["pinned_ids"] = sorted(pinned, key=_id_order)
        yielded: set[str] = set()
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
                item = self._prepare(context, raw, headers)
                if item is not None:
                    yielded.add(item.post.native_id)
                    yield item
            next_url = response.links.get(direction, {}).get("url")
            if not next_url:
                break
            url, params = next_url, None
        if highest:
            state["newest_id"] = highest
        if pinned_due:
            yield from self._pinned_changes(context, headers, pinned, held_pinned, yielded)
            state["pinned_checked_at"] = now.isoformat()

    def _fetch_pinned(
        self, context: FetchContext, headers: dict[str, str], account_id: str
    ) -> dict[str, dict[str, Any]]:
        """The account's pinned public statuses by id (a handful; Mastodon has no paging here)."""
        account = context.account
        response = context.http.get(
            f"{account.api_base}{STATUSES_PATH.format(id=account_id)}",
            params={"pinned": "true"},
            headers=headers,
            account=account.key,
        )
        return {
            str(raw["id"]): raw
            for raw in _json_list(context, response)
            if isinstance(raw, dict) and "id" in raw and is_archivable(raw, account_id)
        }

    def _pinned_changes(
        self,
        context: FetchContext,
        headers: dict[str, str],
        pinned: dict[str, dict[str, Any]],
        held: list[str],
        yielded: set[str],
    ) -> Iterator[Fetched]:
        """Statuses pinned or unpinned since the last check, or pinned and edited since."""
        edited = context.state.get("edited") or {}
        for native_id, raw in pinned.items():
            if native_id in yielded:
                continue
            if native_id not in held or (raw.get("edited_at") or None) != edited.get(native_id):
                item = self._prepare(context, raw, headers)
                if item is not None:
                    yield item
        account = context.account
        for native_id in held:
            if native_id in pinned or native_id in yielded:
                continue
            url = f"{account.api_base}{STATUS_PATH.format(id=native_id)}"
            try:
                raw = context.http.get_json(url, headers=headers, account=account.key)
            except NotFoundError:
                continue  # deleted, not merely unpinned: the re-checks of fetch.lifecycle see to it
            account_id = str(context.state.get("account_id") or "")
            if isinstance(raw, dict) and "id" in raw and is_archivable(raw, account_id):
                item = self._prepare(context, raw, headers)
                if item is not None:
                    yield item

    def _prepare(
        self,
        context: FetchContext,
        raw: dict[str, Any],
        headers: dict[str, str],
        archived: Post | None = None,
    ) -> Fetched | None:
        """The status as a Post, with what a single status does not say: whether it is pinned
        (from the pinned ids in the state) and, when edited, its earlier versions.

        The history is asked for only when ``archived`` does not already hold it for this very
        ``edited_at``; otherwise the archived post's history is carried over.
        """
        account = context.account
        native_id = str(raw["id"])
        stored = dict(raw)
        if "pinned_ids" in context.state:
            # Unauthenticated answers leave "pinned" out; fill in what the pinned request said.
            stored["pinned"] = native_id in context.state["pinned_ids"]
        edited_at = None if raw.get("reblog") else raw.get("edited_at")
        carried: list[Any] | None = None
        if edited_at:
            if (
                archived is not None
                and archived.edited == _normalized_or_none(edited_at)
                and isinstance(archived.extra.get("history"), list)
            ):
                carried = archived.extra["history"]
            else:
                stored["_history"] = self._fetch_history(context, native_id, headers)
        try:
            post = to_post(stored, account)
        except (KeyError, TypeError, ValueError) as exc:
            context.log.warning("%s: skipped malformed status %s (%s)", account.key, native_id, exc)
            return None
        if carried is not None:
            post = dataclasses.replace(post, extra={**post.extra, "history": carried})
        if edited_at:
            context.state.setdefault("edited", {})[native_id] = str(edited_at)
        return Fetched(post, stored)

    def _fetch_history(
        self, context: FetchContext, native_id: str, headers: dict[str, str]
    ) -> list[Any]:
        """``/history`` of one status. Gone (404) or refused (401/403, some servers keep edit
        histories to signed-in users) means no history, not a failed run; anything else raises,
        so that the run is repeated and no history is lost."""
        account = context.account
        url = f"{account.api_base}{HISTORY_PATH.format(id=native_id)}"
        try:
            data = context.http.get_json(url, headers=headers, account=account.key)
        except (NotFoundError, AuthError) as exc:
            context.log.warning("%s: no edit history for %s (%s)", account.key, native_id, exc)
            return []
        if not isinstance(data, list):
            raise PayloadError(
                "expected a list of status edits", account=account.key, url=context.http.redact(url)
            )
        return data

    def check_exists(self, context: FetchContext, post: Post) -> bool | None:
        """A status deleted by its author answers 404 on its own endpoint: positive evidence.

        Everything else (timeouts, 5xx, 429, an HTML page) raises and proves nothing. A status
        that exists is handed back in ``context.refreshed``: ``min_id`` paging never returns an
        older status again, so this is how its edits reach the archive.
        """
        account = context.account
        headers = {"Accept": "application/json"}
        token = account.secrets.get("token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{account.api_base}{STATUS_PATH.format(id=post.native_id)}"
        try:
            data = context.http.get_json(url, headers=headers, account=account.key)
        except NotFoundError:
            return False
        if not isinstance(data, dict) or str(data.get("id")) != post.native_id:
            raise PayloadError(
                "expected the status itself", account=account.key, url=context.http.redact(url)
            )
        account_id = str(context.state.get("account_id") or "")
        if is_archivable(data, account_id):
            # Compared with the archived post: its edit history is asked for only when
            # edited_at changed; a malformed status is logged and left as archived.
            item = self._prepare(context, data, headers, archived=post)
            if item is not None:
                context.refreshed.append(item)
        return True

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


def _id_order(value: str) -> tuple[int, str]:
    return (len(value), value)


def _pinned_check_due(checked_at: Any, now: datetime) -> bool:
    if not isinstance(checked_at, str):
        return True
    try:
        last = datetime.fromisoformat(checked_at)
    except ValueError:
        return True
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return now - last >= PINNED_CHECK_INTERVAL or last > now


def _normalized_or_none(value: Any) -> str | None:
    try:
        return normalize_time(str(value))
    except (ValueError, OverflowError):
        return None


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
    extra: dict[str, Any] = {}
    if "_history" in raw and not raw.get("reblog"):
        # Aushang's own key: the /history answer fetched beside the status (see fetch).
        extra["history"] = to_history(raw["_history"], raw.get("edited_at"))
    reply_to = None
    if raw.get("in_reply_to_id") and not raw.get("reblog"):
        reply_to = post_id(MastodonSource.name, account.key, str(raw["in_reply_to_id"]))
    return Post(
        id=post_id(MastodonSource.name, account.key, native_id),
        platform=MastodonSource.name,
        account=account.key,
        native_id=native_id,
        # A boost has no page of its own (url is null): link to the boosted post instead.
        url=clean_url(raw.get("url") or shown.get("url") or raw.get("uri") or ""),
        published=normalize_time(raw["created_at"]),
        edited=normalize_time(shown["edited_at"]) if shown.get("edited_at") else None,
        text_html=sanitize_html(emoji_as_text(shown.get("content") or "")),
        language=shown.get("language") or None,
        content_warning=str(shown.get("spoiler_text") or "").strip(),  # plain text in the API
        media=tuple(to_media(item, shown) for item in shown.get("media_attachments") or []),
        card=to_card(shown.get("card")),
        poll=to_poll(shown.get("poll")),
        reply_to=reply_to,
        repost_of=repost_of,
        hashtags=tuple(str(tag["name"]) for tag in shown.get("tags") or [] if tag.get("name")),
        pinned=bool(raw.get("pinned")),
        extra=extra,
    )


def emoji_as_text(html: str) -> str:
    """Custom emoji rendered as ``<img alt=":name:">`` become their ``:name:`` text: the
    sanitizer drops every image, and the shortcode is what a reader can still read."""
    return _EMOJI_IMAGE.sub(lambda match: match.group(1), html)


def to_history(versions: Any, edited_at: Any) -> list[dict[str, Any]]:
    """The versions before the current one (``/history`` lists the current one last), oldest
    first, sanitized like the post itself. Never shown on the site."""
    if not isinstance(versions, list) or not edited_at:
        return []
    current = _instant(edited_at)
    history: list[dict[str, Any]] = []
    for version in versions:
        if not isinstance(version, dict) or not version.get("created_at"):
            continue
        moment = _instant(version["created_at"])
        if moment is None or (current is not None and moment >= current):
            continue
        entry: dict[str, Any] = {
            "at": normalize_time(moment),
            "text_html": sanitize_html(emoji_as_text(str(version.get("content") or ""))),
        }
        warning = str(version.get("spoiler_text") or "").strip()
        if warning:
            entry["content_warning"] = warning
        media = [
            {"kind": str(m.get("type") or ""), "alt": str(m.get("description") or "").strip()}
            for m in version.get("media_attachments") or []
            if isinstance(m, dict)
        ]
        if media:
            entry["media"] = media
        poll = version.get("poll")
        if isinstance(poll, dict) and poll.get("options"):
            entry["poll"] = [
                str(o.get("title", "")) for o in poll["options"] if isinstance(o, dict)
            ]
        history.append(entry)
    return history


def _instant(value: Any) -> datetime | None:
    """Full precision (edits can be milliseconds apart), in UTC."""
    try:
        moment = date_parser.isoparse(str(value))
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
