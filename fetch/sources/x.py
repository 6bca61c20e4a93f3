"""X (formerly Twitter): the posts of one account through the X API v2.

API reference:

- user lookup: https://docs.x.com/x-api/users/lookup/introduction
  (``GET /2/users/by/username/:username``);
- the account's posts: https://docs.x.com/x-api/posts/timelines/introduction
  (``GET /2/users/:id/tweets``, newest first, ``pagination_token`` and ``since_id``);
- fields and expansions: https://docs.x.com/x-api/fundamentals/data-dictionary;
- edits: https://docs.x.com/x-api/fundamentals/edit-posts (every edit is a new id, the history
  is ``edit_history_tweet_ids``, oldest first);
- rate limits: https://docs.x.com/x-api/fundamentals/rate-limits (``x-rate-limit-reset`` is a
  Unix time; ``fetch.http`` waits for it);
- billing: https://docs.x.com/x-api/fundamentals/post-cap (pay per post read).

What the mirror does with a post:

- The account is resolved once with the user lookup; its id is kept in the state.
- The first run pages back with ``pagination_token`` (at most ``max_pages`` pages; the API
  itself reaches back about 3,200 posts, older ones come from the archive import,
  ``fetch.importers``). Later runs ask only for what is newer than the newest id seen
  (``since_id``), following ``next_token`` until nothing is left.
- An edit is a new post id. The archive keys a post by the FIRST id of its edit history, so a
  later version replaces the earlier one (``Post.edited`` is set, the old version goes to
  ``history/``). ``published`` is read from that first id (a Snowflake id carries its own
  creation time), ``edited`` is the creation time of the version shown.
- ``t.co`` never reaches a reader: each link is replaced by its cleaned ``expanded_url``, and
  a ``t.co`` link that points at the post's own photo or video (or at the quoted post, which is
  shown as a quote) is removed, as X itself shows them.
- Long posts (``note_tweet``) are shown whole, with the note's own entities.
- A repost becomes a post with ``repost_of``; a quote keeps the quoted post in ``quote``.
  Replies to other people are conversations with citizens and are skipped; replies to the
  account itself (threads) are kept with ``reply_to``.
- Photos are re-hosted; videos and GIFs show their poster image and link out to X.
- Reads are paid per post: every post the API returns (including quoted and reposted posts in
  ``includes``) is counted into ``FetchContext.counters["x_posts_read"]`` and shows in the run
  summary; the user lookup is counted as ``x_users_read``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from ..clean.html import linkify_text
from ..clean.links import clean_url, is_shortener
from ..errors import AuthError, NotFoundError, PayloadError, SourceError
from ..model import Media, Origin, Post, Quote, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Secret, Source

USER_LOOKUP_PATH = "/2/users/by/username/{username}"
TIMELINE_PATH = "/2/users/{id}/tweets"
# 5..100 per page; 100 keeps the number of requests (and rate-limit use) low.
PAGE_SIZE = 100
# ``author_id`` is not strictly needed for our own posts, but it is the only reliable way to
# find the author of a quoted or reposted post among ``includes.users``.
TWEET_FIELDS = (
    "created_at,lang,entities,attachments,note_tweet,edit_history_tweet_ids,referenced_tweets,"
    "conversation_id,in_reply_to_user_id,possibly_sensitive,author_id"
)
EXPANSIONS = "attachments.media_keys,referenced_tweets.id,referenced_tweets.id.author_id"
MEDIA_FIELDS = "type,url,preview_image_url,alt_text,variants,width,height"
WEB_BASE = "https://x.com"
# Twitter's Snowflake ids carry their creation time (milliseconds since this epoch) in the bits
# above 22: https://docs.x.com/fundamentals/x-ids
SNOWFLAKE_EPOCH_MS = 1288834974657
# X's language codes for "no language": undetermined, media/hashtags/mentions/links only.
_NO_LANGUAGE = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "qst"})
_STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:[^/?#]+|i/web)/status/(\d+)"
    r"(?:/(?:photo|video)/\d+)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+", re.IGNORECASE)
_RETWEET_PREFIX = re.compile(r"^RT @(\w{1,15}): ")
# Why a referenced post is missing from ``includes``: X reports it in the response's errors.
_UNAVAILABLE = {
    "Not Found Error": "gelöscht",
    "Authorization Error": "nicht öffentlich",
    "Forbidden": "nicht öffentlich",
}


class XSource(Source):
    name: ClassVar[str] = "x"
    label: ClassVar[str] = "X"
    docs: ClassVar[str] = "plattformen/x.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param("username", "the account's user name on X, without @", example="musterstadt"),
    )
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("token", "the bearer token (app-only) of an X developer app with API access"),
    )
    default_api_base: ClassVar[str] = "https://api.x.com"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {account.secrets.get('token', '')}",
        }
        state = context.state
        username = account.params["username"].lstrip("@")
        user = state.get("user")
        if not isinstance(user, dict) or str(user.get("username", "")).lower() != username.lower():
            user = self._lookup(context, headers, username)
            state["user"] = user
        url = f"{account.api_base}{TIMELINE_PATH.format(id=user['id'])}"
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "media.fields": MEDIA_FIELDS,
        }
        newest = state.get("newest_id")
        if newest:
            params["since_id"] = newest
        highest: str | None = newest
        shown: dict[str, str] = {}  # archive key (first edit id) -> id of the version yielded
        for _page in range(context.max_pages):
            data = _get_json(context, url, params, headers)
            if not isinstance(data, dict):
                raise PayloadError("expected a JSON object", account=account.key, url=url)
            tweets = data.get("data") or []
            includes = data.get("includes") or {}
            if not isinstance(tweets, list) or not isinstance(includes, dict):
                raise PayloadError("expected a list of posts", account=account.key, url=url)
            if not tweets and data.get("errors") and not data.get("meta"):
                raise _timeline_error(data["errors"], account.key, url)
            _count(context, "x_posts_read", len(tweets) + len(includes.get("tweets") or []))
            unavailable = unavailable_references(data.get("errors"))
            for tweet in tweets:
                if not isinstance(tweet, dict) or "id" not in tweet:
                    context.log.warning("%s: skipped a post without id", account.key)
                    continue
                tweet_id = str(tweet["id"])
                highest = _max_id(highest, tweet_id)
                if not is_archivable(tweet, str(user["id"])):
                    continue
                key = archive_key(tweet)
                if key in shown and _order(shown[key]) >= _order(tweet_id):
                    continue  # an older version of a post already yielded in this run
                shown[key] = tweet_id
                raw = envelope(tweet, includes, user, unavailable)
                try:
                    post = to_post(raw, account)
                except (KeyError, TypeError, ValueError) as exc:
                    context.log.warning(
                        "%s: skipped malformed post %s (%s)", account.key, tweet_id, exc
                    )
                    continue
                yield Fetched(post, raw)
            next_token = (data.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["pagination_token"] = next_token
        if highest:
            state["newest_id"] = highest

    def _lookup(
        self, context: FetchContext, headers: dict[str, str], username: str
    ) -> dict[str, str]:
        account = context.account
        url = f"{account.api_base}{USER_LOOKUP_PATH.format(username=username)}"
        data = _get_json(context, url, None, headers)
        found = data.get("data") if isinstance(data, dict) else None
        if not isinstance(found, dict) or not found.get("id"):
            errors = data.get("errors") if isinstance(data, dict) else None
            if errors:
                raise _timeline_error(errors, account.key, url, subject=f"X user @{username}")
            raise PayloadError("user lookup returned no user id", account=account.key, url=url)
        _count(context, "x_users_read", 1)
        return {
            "id": str(found["id"]),
            "username": str(found.get("username") or username),
            "name": str(found.get("name") or ""),
        }


def _count(context: FetchContext, name: str, amount: int) -> None:
    context.counters[name] = context.counters.get(name, 0) + amount


def _get_json(
    context: FetchContext, url: str, params: dict[str, Any] | None, headers: dict[str, str]
) -> Any:
    """GET through the shared client; an auth or billing refusal gets X's specific advice."""
    try:
        return context.http.get_json(
            url, params=params, headers=headers, account=context.account.key
        )
    except AuthError as exc:
        raise AuthError(
            _first_part(exc) + ". " + _auth_advice(str(exc), exc.status),
            account=exc.account,
            url=exc.url,
            status=exc.status,
        ) from exc
    except SourceError as exc:
        if exc.status == 402:
            raise SourceError(
                _first_part(exc) + ". The X app has no credits left: buy credits or raise the "
                "spending limit in the X Developer Console (see docs/plattformen/x.md)",
                account=exc.account,
                url=exc.url,
                status=exc.status,
            ) from exc
        raise


def _first_part(exc: SourceError) -> str:
    return str(exc).split(" | ", 1)[0]


def _auth_advice(message: str, status: int | None) -> str:
    if "client-not-enrolled" in message or "client-forbidden" in message:
        return (
            "X says the developer app behind this bearer token has no API access: attach the "
            "app to a project with pay-per-use credits in the X Developer Console"
        )
    if status == 403:
        return "X refused this bearer token for this account (is the account protected?)"
    return (
        "X rejected the bearer token (revoked, regenerated or mistyped): copy the app's "
        "current bearer token from the X Developer Console"
    )


def _timeline_error(
    errors: Any, account: str, url: str, *, subject: str = "X account"
) -> SourceError:
    """A 200 answer that carries only errors: the account is gone, suspended or protected."""
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    title = str(first.get("title") or "error")
    detail = str(first.get("detail") or "")[:200]
    if title == "Not Found Error":
        return NotFoundError(f"{subject} not found: {detail}", account=account, url=url)
    if title in ("Authorization Error", "Forbidden"):
        return AuthError(f"{subject} not readable: {detail}", account=account, url=url)
    return PayloadError(f"{subject}: {title}: {detail}", account=account, url=url)


def _order(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)


def _max_id(current: str | None, candidate: str) -> str:
    if current is None:
        return candidate
    return max(current, candidate, key=_order)


def archive_key(tweet: dict[str, Any]) -> str:
    """The native id a post is archived under: the first id of its edit history."""
    history = tweet.get("edit_history_tweet_ids") or []
    return str(history[0]) if history else str(tweet["id"])


def is_archivable(tweet: dict[str, Any], user_id: str) -> bool:
    """The account's posts and reposts, and of its replies only those to itself (threads)."""
    reply_to_user = tweet.get("in_reply_to_user_id")
    return reply_to_user is None or str(reply_to_user) == str(user_id)


def unavailable_references(errors: Any) -> dict[str, str]:
    """Referenced posts X could not include, by id, with a short reason for readers."""
    found: dict[str, str] = {}
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict) or error.get("resource_type") != "tweet":
            continue
        resource = error.get("resource_id") or error.get("value")
        if resource:
            found[str(resource)] = _UNAVAILABLE.get(str(error.get("title")), "nicht verfügbar")
    return found


def envelope(
    tweet: dict[str, Any],
    includes: dict[str, Any],
    user: dict[str, str],
    unavailable: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The raw payload kept beside the post: the post and exactly the includes it refers to."""
    referenced = {str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    tweets = [t for t in includes.get("tweets") or [] if str(t.get("id")) in referenced]
    keys = set((tweet.get("attachments") or {}).get("media_keys") or [])
    for item in tweets:
        keys.update((item.get("attachments") or {}).get("media_keys") or [])
    authors = {str(t.get("author_id")) for t in tweets}
    raw: dict[str, Any] = {
        "tweet": tweet,
        "includes": {
            "media": [m for m in includes.get("media") or [] if m.get("media_key") in keys],
            "tweets": tweets,
            "users": [u for u in includes.get("users") or [] if str(u.get("id")) in authors],
        },
        "user": user,
    }
    gone = {k: v for k, v in (unavailable or {}).items() if k in referenced}
    if gone:
        raw["unavailable"] = gone
    return raw


# ---------------------------------------------------------------------------------------------
# Conversion (pure)


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one post (with the includes it refers to, see ``envelope``) into a Post."""
    tweet = raw["tweet"]
    includes = raw.get("includes") or {}
    user = raw.get("user") or {}
    username = str(user.get("username") or account.params.get("username", "")).lstrip("@")
    own_id = str(user.get("id", ""))
    tweets = {str(t["id"]): t for t in includes.get("tweets") or [] if t.get("id")}
    users = {str(u["id"]): u for u in includes.get("users") or [] if u.get("id")}
    media_by_key = {m["media_key"]: m for m in includes.get("media") or [] if m.get("media_key")}
    unavailable = raw.get("unavailable") or {}
    references = {
        str(r.get("type")): str(r.get("id")) for r in tweet.get("referenced_tweets") or []
    }

    latest_id = str(tweet["id"])
    native_id = archive_key(tweet)
    url = f"{WEB_BASE}/{username}/status/{latest_id}"
    created = normalize_time(tweet["created_at"])
    published = snowflake_time(native_id) if native_id != latest_id else created
    edited = created if native_id != latest_id else None

    shown = tweet
    repost_of = None
    retweeted_id = references.get("retweeted")
    if retweeted_id:
        original = tweets.get(retweeted_id)
        if original is not None:
            shown = original
            author = users.get(str(original.get("author_id")), {})
            handle = str(author.get("username") or "")
            repost_of = Origin(
                name=str(author.get("name") or handle),
                handle=f"@{handle}" if handle else "",
                url=f"{WEB_BASE}/{handle or 'i/web'}/status/{retweeted_id}",
            )
        else:  # the original is gone or hidden: keep what the repost's own text says
            match = _RETWEET_PREFIX.match(str(tweet.get("text") or ""))
            handle = match.group(1) if match else ""
            shown = {**tweet, "text": _RETWEET_PREFIX.sub("", str(tweet.get("text") or ""))}
            repost_of = Origin(
                name=handle,
                handle=f"@{handle}" if handle else "",
                url=f"{WEB_BASE}/{handle or 'i/web'}/status/{retweeted_id}",
            )

    quote = None
    quoted_id = references.get("quoted")
    if quoted_id and not retweeted_id:
        quote = _to_quote(quoted_id, tweets, users, unavailable, tweet)

    reply_to = None
    parent_id = references.get("replied_to")
    if parent_id and not retweeted_id and str(tweet.get("in_reply_to_user_id", "")) == own_id:
        parent = tweets.get(parent_id)
        reply_to = post_id(XSource.name, account.key, archive_key(parent) if parent else parent_id)

    skip_ids = {str(i) for i in shown.get("edit_history_tweet_ids") or []} | {str(shown["id"])}
    if quote is not None:
        skip_ids.add(quoted_id or "")
    text, entities = _full_text(shown)
    leading = _leading_mentions(text, entities) if reply_to else 0
    text_html = render_text(text, api_url_entities(entities), skip_ids, start=leading)

    keys = list((tweet.get("attachments") or {}).get("media_keys") or [])
    if not keys and shown is not tweet:
        keys = list((shown.get("attachments") or {}).get("media_keys") or [])
    media = tuple(
        to_media(media_by_key[key], f"{WEB_BASE}/{username}/status/{latest_id}")
        for key in keys
        if key in media_by_key
    )
    language = shown.get("lang")
    extra: dict[str, Any] = {}
    if tweet.get("possibly_sensitive"):
        extra["possibly_sensitive"] = True
    return Post(
        id=post_id(XSource.name, account.key, native_id),
        platform=XSource.name,
        account=account.key,
        native_id=native_id,
        url=url,
        published=published,
        edited=edited,
        text_html=text_html,
        language=None if not language or language in _NO_LANGUAGE else str(language),
        media=media,
        reply_to=reply_to,
        repost_of=repost_of,
        quote=quote,
        hashtags=tuple(_hashtags(entities)),
        extra=extra,
    )


def _to_quote(
    quoted_id: str,
    tweets: dict[str, dict[str, Any]],
    users: dict[str, dict[str, Any]],
    unavailable: dict[str, str],
    tweet: dict[str, Any],
) -> Quote:
    quoted = tweets.get(quoted_id)
    # The quoting post links the quoted one; that link names the author even when X could not
    # include the quoted post itself.
    handle = ""
    for entity in _full_text(tweet)[1].get("urls") or []:
        match = _STATUS_URL.match(str(entity.get("expanded_url") or ""))
        if match and match.group(1) == quoted_id:
            handle = str(entity["expanded_url"]).split("/")[3]
    if quoted is None:
        return Quote(
            origin=Origin(
                name=handle,
                handle=f"@{handle}" if handle and handle != "i" else "",
                url=f"{WEB_BASE}/{handle or 'i/web'}/status/{quoted_id}",
            ),
            unavailable=unavailable.get(quoted_id, "nicht verfügbar"),
        )
    author = users.get(str(quoted.get("author_id")), {})
    handle = str(author.get("username") or handle)
    text, entities = _full_text(quoted)
    skip = {str(i) for i in quoted.get("edit_history_tweet_ids") or []} | {quoted_id}
    return Quote(
        origin=Origin(
            name=str(author.get("name") or handle),
            handle=f"@{handle}" if handle else "",
            url=f"{WEB_BASE}/{handle or 'i/web'}/status/{quoted_id}",
        ),
        text_html=render_text(text, api_url_entities(entities), skip),
        published=normalize_time(quoted["created_at"]) if quoted.get("created_at") else None,
    )


def _full_text(tweet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The whole text and its entities: a long post's ``note_tweet`` has both of its own."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and note.get("text"):
        return str(note["text"]), note.get("entities") or {}
    return str(tweet.get("text") or ""), tweet.get("entities") or {}


def _leading_mentions(text: str, entities: dict[str, Any]) -> int:
    """Where the text starts after the @mentions X puts in front of a reply."""
    position = 0
    spans = sorted(
        (int(m["start"]), int(m["end"])) for m in entities.get("mentions") or [] if "start" in m
    )
    for start, end in spans:
        if text[position:start].strip():
            break
        position = end
    return position if position and text[:position].lstrip().startswith("@") else 0


def _hashtags(entities: dict[str, Any]) -> Iterator[str]:
    seen: set[str] = set()
    for tag in entities.get("hashtags") or []:
        name = str(tag.get("tag") or tag.get("text") or "")
        if name and name.lower() not in seen:
            seen.add(name.lower())
            yield name


def to_media(item: dict[str, Any], link_out: str) -> Media:
    """A photo is re-hosted; a video or GIF shows its poster and links out to the post."""
    kind = str(item.get("type"))
    alt = str(item.get("alt_text") or "").strip()
    width, height = item.get("width"), item.get("height")
    if kind == "photo":
        return Media(
            kind="image", alt=alt, source=str(item.get("url") or ""), width=width, height=height
        )
    return Media(
        kind="gifv" if kind == "animated_gif" else "video",
        alt=alt,
        source=str(item.get("preview_image_url") or ""),
        url=link_out,
        width=width,
        height=height,
    )


def snowflake_time(tweet_id: str) -> str:
    """The creation time a Snowflake id carries, to the second, as the archive stores times."""
    milliseconds = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return normalize_time(datetime.fromtimestamp(milliseconds // 1000, tz=UTC))


# ---------------------------------------------------------------------------------------------
# Text with t.co links (shared with the archive import, whose entities have the same meaning)


@dataclass(frozen=True)
class UrlEntity:
    """A ``t.co`` link in a text: where it is (code-point offsets) and where it leads."""

    start: int
    end: int
    url: str
    expanded: str
    media: bool = False


def api_url_entities(entities: dict[str, Any]) -> list[UrlEntity]:
    """The API v2 ``entities.urls`` (``start``/``end``; ``media_key`` marks a media link)."""
    found = []
    for item in entities.get("urls") or []:
        if not isinstance(item, dict) or not item.get("url"):
            continue
        expanded = str(item.get("expanded_url") or "")
        if (not expanded or is_shortener(expanded)) and item.get("unwound_url"):
            expanded = str(item["unwound_url"])
        found.append(
            UrlEntity(
                start=int(item.get("start", -1)),
                end=int(item.get("end", -1)),
                url=str(item["url"]),
                expanded=expanded,
                media=bool(item.get("media_key")),
            )
        )
    return found


def render_text(
    text: str,
    entities: Iterable[UrlEntity],
    skip_status_ids: set[str],
    *,
    start: int = 0,
    end: int | None = None,
) -> str:
    """X's (HTML-escaped) text as safe HTML, every ``t.co`` link resolved or removed.

    Offsets are code points, which is what Python indexes strings by. An entity whose offsets
    do not frame its ``t.co`` URL (X counts them before HTML-escaping ``&``) is found by the URL
    itself instead. Links to the post's own media or to a post in ``skip_status_ids`` are
    removed; any ``t.co`` link without an entity is removed too, since only a request to X could
    tell where it leads.
    """
    stop = len(text) if end is None else min(end, len(text))
    spans: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for entity in sorted(entities, key=lambda e: e.start):
        position = entity.start
        if text[position : position + len(entity.url)] != entity.url:
            position = text.find(entity.url)
            while position in taken:
                position = text.find(entity.url, position + 1)
        if position < 0 or position < start or position >= stop:
            continue
        taken.add(position)
        spans.append((position, position + len(entity.url), _replacement(entity, skip_status_ids)))
    pieces: list[str] = []
    cursor = start
    for begin, finish, replacement in sorted(spans):
        if begin < cursor:
            continue
        pieces.append(html.unescape(text[cursor:begin]))
        pieces.append(replacement)
        cursor = finish
    pieces.append(html.unescape(text[cursor:stop]))
    plain = _TCO.sub("", "".join(pieces))
    plain = "\n".join(line.rstrip() for line in plain.strip().split("\n"))
    return linkify_text(plain)


def _replacement(entity: UrlEntity, skip_status_ids: set[str]) -> str:
    if entity.media:
        return ""
    match = _STATUS_URL.match(entity.expanded)
    if match and match.group(1) in skip_status_ids:
        return ""
    cleaned = clean_url(entity.expanded) if entity.expanded else ""
    return cleaned if cleaned and not _TCO.match(cleaned) else ""
