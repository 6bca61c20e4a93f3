"""Bluesky: the public posts of one account, read from Bluesky's public AppView without signing in.

API reference: https://docs.bsky.app/docs/api/app-bsky-feed-get-author-feed,
https://docs.bsky.app/docs/api/com-atproto-identity-resolve-handle and the lexicons of
https://github.com/bluesky-social/atproto/tree/main/lexicons (``app.bsky.feed.post``,
``app.bsky.richtext.facet``, ``app.bsky.embed.*``, ``app.bsky.feed.defs``).

- The handle is resolved to a DID once and the DID is kept in the state: a Bluesky handle can
  change, the DID cannot. It is resolved again only when the handle in ``aushang.yml`` changes.
- ``app.bsky.feed.getAuthorFeed`` (filter ``posts_and_author_threads``) is paged with its
  cursor, newest first. A first run pages back up to ``max_pages``; later runs stop at the first
  page that reaches back past what is already held (the newest time and the ids of the last
  day's items are kept in the state), so a run with nothing new costs one request.
- Archived are the account's own posts and its self-threads (replies whose parent and thread
  root are its own). Replies to other people are conversations with citizens and are skipped;
  reposts of other accounts only with ``options: {include_reposts: true}``.
- Post text is rebuilt from the record's facets, which are UTF-8 *byte* ranges into the text
  (https://docs.bsky.app/docs/advanced-guides/post-richtext): links are cleaned of trackers,
  mentions and hashtags become plain spans. A malformed range is ignored, never fatal.
- Images and link-card thumbnails are re-hosted; a video is shown by its poster image with a
  link to the post, its HLS playlist is never fetched.
- An account labelled ``!no-unauthenticated`` has asked apps not to show it to logged-out
  readers. Everyone reads Aushang logged out, so such an account fails with a clear error and
  nothing of it is archived.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any, ClassVar

from dateutil import parser as date_parser

from ..clean.html import sanitize_html
from ..clean.links import clean_url
from ..errors import NotFoundError, PayloadError, SourceError
from ..model import LinkCard, Media, Origin, Post, Quote, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Source

# https://docs.bsky.app/docs/api/com-atproto-identity-resolve-handle
RESOLVE_HANDLE_PATH = "/xrpc/com.atproto.identity.resolveHandle"
# https://docs.bsky.app/docs/api/app-bsky-feed-get-author-feed
AUTHOR_FEED_PATH = "/xrpc/app.bsky.feed.getAuthorFeed"
PAGE_LIMIT = 100  # the lexicon's maximum for getAuthorFeed
# Own posts, and replies only inside threads the author started: the AppView leaves out the
# replies to other people that we would skip anyway (we check again, see is_archivable).
FEED_FILTER = "posts_and_author_threads"
WEB_BASE = "https://bsky.app"
# The label an account sets with "discourage apps from showing my account to logged-out users"
# (https://docs.bsky.app/docs/advanced-guides/moderation#global-label-values).
NO_UNAUTHENTICATED = "!no-unauthenticated"

# A post can enter the author feed behind one we already hold: its client set an earlier
# createdAt than the AppView's indexedAt (a slow upload, a relay catching up). The ids of the
# items of the last day before the newest one are kept, so that such a late arrival on the page
# where paging stops is recognised as new instead of being taken for archived by its time.
OVERLAP = timedelta(days=1)

REASON_REPOST = "app.bsky.feed.defs#reasonRepost"
REASON_PIN = "app.bsky.feed.defs#reasonPin"

# Self-labels an author can put on a post (com.atproto.label.defs#selfLabels), as the German
# content warning readers see before they open it. "gore" is the older name of graphic-media.
CONTENT_LABELS = {
    "porn": "Pornografische Inhalte",
    "sexual": "Sexuelle Inhalte",
    "nudity": "Nacktheit",
    "graphic-media": "Drastische Darstellungen",
    "gore": "Drastische Darstellungen",
}
# What a reader sees instead of a quoted post that the AppView cannot show.
QUOTE_DELETED = "gelöscht"
QUOTE_BLOCKED = "blockiert"
QUOTE_DETACHED = "vom Autor gelöst"
QUOTE_LOGGED_IN_ONLY = "nur für angemeldete Personen sichtbar"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")


class BlueskySource(Source):
    name: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    docs: ClassVar[str] = "plattformen/bluesky.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "handle",
            "the account's Bluesky handle (its domain name), without @",
            example="musterstadt.bsky.social",
        ),
    )
    default_api_base: ClassVar[str] = "https://public.api.bsky.app"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        state = context.state
        handle = account.params["handle"].strip().lstrip("@")
        did = state.get("did") if state.get("handle") == handle else None
        if not did:
            did = self._resolve(context, handle)
        include_reposts = bool(account.options.get("include_reposts", False))
        newest = _instant(state.get("newest"))
        # Items inside the overlap window are recognised by id, older ones by time alone.
        horizon = newest - OVERLAP if newest is not None else None
        seen: dict[str, str] = {
            str(key): str(value)
            for key, value in (state.get("recent") or {}).items()
            if isinstance(value, str)
        }
        url = f"{account.api_base}{AUTHOR_FEED_PATH}"
        cursor: str | None = None
        for _page in range(context.max_pages):
            params: dict[str, Any] = {"actor": did, "filter": FEED_FILTER, "limit": PAGE_LIMIT}
            if cursor:
                params["cursor"] = cursor
            data = context.http.get_json(
                url, params=params, headers={"Accept": "application/json"}, account=account.key
            )
            feed, cursor = _feed_page(data, context, url)
            refuse_opted_out(feed, did, account.key)
            reached_known = False
            for item in feed:
                if not isinstance(item, dict) or not isinstance(item.get("post"), dict):
                    context.log.warning("%s: skipped a feed item without post", account.key)
                    continue
                moment = sort_instant(item)
                key = item_key(item)
                if moment is None or key is None:
                    context.log.warning(
                        "%s: skipped a feed item without time or URI (%s)",
                        account.key,
                        item["post"].get("uri"),
                    )
                    continue
                if (item.get("reason") or {}).get("$type") == REASON_PIN:
                    continue  # a pinned post shown on top again; it has its own place in time
                if (horizon is not None and moment < horizon) or key in seen:
                    # Newest first: the pages after this one hold only what is archived. The
                    # rest of this page is still read, for posts indexed late (see OVERLAP).
                    reached_known = True
                    continue
                seen[key] = _iso(moment)
                if not is_archivable(item, did, include_reposts=include_reposts):
                    continue
                try:
                    post = to_post(item, account)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    context.log.warning(
                        "%s: skipped malformed post %s (%s)",
                        account.key,
                        item["post"].get("uri"),
                        exc,
                    )
                    continue
                for kind in post.extra.get("unsupported_embeds", ()):
                    context.log.warning(
                        "%s: post %s has an embed Aushang does not show yet (%s); post kept",
                        account.key,
                        post.native_id,
                        kind,
                    )
                yield Fetched(post, item)
            if reached_known or not cursor or not feed:
                break
        state["did"] = did
        state["handle"] = handle
        moments = [m for m in (_instant(v) for v in seen.values()) if m is not None]
        if moments:
            latest = max(moments)
            state["newest"] = _iso(latest)
            state["recent"] = {
                key: value
                for key, value in sorted(seen.items())
                if (m := _instant(value)) is not None and m >= latest - OVERLAP
            }

    def _resolve(self, context: FetchContext, handle: str) -> str:
        """The DID of ``handle``; a handle that already is a DID is used as it is."""
        account = context.account
        if handle.startswith("did:"):
            return handle
        url = f"{account.api_base}{RESOLVE_HANDLE_PATH}"
        try:
            data = context.http.get_json(
                url,
                params={"handle": handle},
                headers={"Accept": "application/json"},
                account=account.key,
            )
        except SourceError as exc:
            # Bluesky answers an unknown handle with 400 InvalidRequest "Unable to resolve
            # handle", not with 404: both mean the account does not exist under this name.
            if type(exc) in (SourceError, NotFoundError) and exc.status in (400, 404):
                raise NotFoundError(
                    f"the Bluesky handle {handle!r} does not resolve to an account; check "
                    "`handle` of this account in aushang.yml (the full handle without @, "
                    "for example musterstadt.bsky.social)",
                    account=account.key,
                    url=exc.url,
                    status=exc.status,
                ) from exc
            raise
        did = data.get("did") if isinstance(data, dict) else None
        if not isinstance(did, str) or not did.startswith("did:"):
            raise PayloadError(
                "resolveHandle returned no DID", account=account.key, url=context.http.redact(url)
            )
        return did


def _feed_page(data: Any, context: FetchContext, url: str) -> tuple[list[Any], str | None]:
    feed = data.get("feed") if isinstance(data, dict) else None
    if not isinstance(feed, list):
        raise PayloadError(
            "expected an author feed (an object with a list 'feed')",
            account=context.account.key,
            url=context.http.redact(url),
        )
    cursor = data.get("cursor")
    return feed, cursor if isinstance(cursor, str) and cursor else None


def refuse_opted_out(feed: list[Any], did: str, account_key: str) -> None:
    """Fail the account if its author asked apps not to show it to logged-out readers."""
    for item in feed:
        if not isinstance(item, dict):
            continue
        post = _mapping(item.get("post"))
        reason = _mapping(item.get("reason"))
        own = [
            _mapping(p) for p in (post.get("author"), reason.get("by")) if _did_of_profile(p) == did
        ]
        own_post = _did_of_profile(post.get("author")) == did
        if any(has_label(p.get("labels"), NO_UNAUTHENTICATED) for p in own) or (
            own_post and has_label(post.get("labels"), NO_UNAUTHENTICATED)
        ):
            raise SourceError(
                f"the author of {did} has opted out of logged-out visibility (Bluesky label "
                f"{NO_UNAUTHENTICATED}): Aushang is read by logged-out visitors, so it archives "
                "and publishes nothing of this account. Remove the account from aushang.yml or "
                "ask its owner to allow logged-out visibility (see docs/plattformen/bluesky.md)",
                account=account_key,
            )


def has_label(labels: Any, value: str) -> bool:
    if not isinstance(labels, list):
        return False
    return any(
        isinstance(label, dict) and label.get("val") == value and not label.get("neg")
        for label in labels
    )


def is_archivable(item: dict[str, Any], did: str, *, include_reposts: bool = False) -> bool:
    """Own posts and self-threads; reposts of others only when configured."""
    post = item["post"]
    reason = item.get("reason") or {}
    if reason.get("$type") == REASON_REPOST:
        author = post.get("author") or {}
        if not include_reposts or author.get("did") == did:
            return False  # a repost of one's own post is that post, archived already
        # Someone who asked not to be shown to logged-out readers is not shown by us either.
        return not (
            has_label(author.get("labels"), NO_UNAUTHENTICATED)
            or has_label(post.get("labels"), NO_UNAUTHENTICATED)
        )
    if _did_of_profile(post.get("author")) != did:
        return False
    reply = (post.get("record") or {}).get("reply")
    if not reply:
        return True
    parent = _did_of_uri(((reply.get("parent") or {}).get("uri")) or "")
    root = _did_of_uri(((reply.get("root") or {}).get("uri")) or "")
    return parent == did and root == did


def item_key(item: dict[str, Any]) -> str | None:
    """The record behind a feed item: the repost record for a repost, else the post."""
    reason = item.get("reason") or {}
    if reason.get("$type") == REASON_REPOST:
        uri = reason.get("uri") or f"repost:{item['post'].get('uri')}"
    else:
        uri = item["post"].get("uri")
    return uri if isinstance(uri, str) and uri else None


def sort_instant(item: dict[str, Any]) -> datetime | None:
    """When the item entered the author feed: the repost time, or the post's own time.

    The AppView orders author feeds by the earlier of ``createdAt`` (set by the client) and
    ``indexedAt`` (set by the AppView), so a post dated into the future sorts by ``indexedAt``.
    """
    reason = item.get("reason") or {}
    if reason.get("$type") == REASON_REPOST:
        return _instant(reason.get("indexedAt"))
    post = item["post"]
    created = _instant((post.get("record") or {}).get("createdAt"))
    indexed = _instant(post.get("indexedAt"))
    known = [moment for moment in (created, indexed) if moment is not None]
    return min(known) if known else None


# ---------------------------------------------------------------------------------------------
# Conversion: pure, no I/O


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one author-feed item (``app.bsky.feed.defs#feedViewPost``) into a Post."""
    post = raw["post"]
    record = post["record"]
    author = post["author"]
    uri = str(post["uri"])
    rkey = _rkey(uri)
    web = post_url(str(author.get("did") or _did_of_uri(uri)), rkey)
    reason = raw.get("reason") or {}
    repost_of = None
    reply_to = None
    if reason.get("$type") == REASON_REPOST:
        reason_uri = reason.get("uri")
        native_id = _rkey(str(reason_uri)) if reason_uri else f"repost-{rkey}"
        published = normalize_time(str(reason["indexedAt"]))
        repost_of = to_origin(author, web)
    else:
        native_id = rkey
        published = _post_time(record, post)
        parent_uri = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        if parent_uri:
            reply_to = post_id(BlueskySource.name, account.key, _rkey(str(parent_uri)))
    media, card, quote, unsupported = to_embed(post.get("embed"), web)
    if post.get("embed") is None and isinstance(record.get("embed"), dict):
        unsupported.append(f"{record['embed'].get('$type')} without a view")
    langs = record.get("langs")
    language = str(langs[0]) if isinstance(langs, list) and langs and langs[0] else None
    extra: dict[str, Any] = {"unsupported_embeds": unsupported} if unsupported else {}
    return Post(
        id=post_id(BlueskySource.name, account.key, native_id),
        platform=BlueskySource.name,
        account=account.key,
        native_id=native_id,
        url=web,
        published=published,
        text_html=facets_to_html(str(record.get("text") or ""), record.get("facets")),
        language=language,
        content_warning=to_content_warning(record, post.get("labels")),
        media=media,
        card=card,
        reply_to=reply_to,
        repost_of=repost_of,
        quote=quote,
        hashtags=to_hashtags(record),
        extra=extra,
    )


def post_url(did: str, rkey: str) -> str:
    """The post on bsky.app. By DID rather than handle: the link survives a handle change."""
    return f"{WEB_BASE}/profile/{did}/post/{rkey}"


def to_origin(author: dict[str, Any], url: str) -> Origin:
    handle = str(author.get("handle") or "")
    shown_handle = "" if not handle or handle == "handle.invalid" else "@" + handle
    return Origin(
        name=str(author.get("displayName") or "").strip() or handle or str(author.get("did", "")),
        handle=shown_handle,
        url=url,
    )


def to_embed(
    embed: Any, web: str
) -> tuple[tuple[Media, ...], LinkCard | None, Quote | None, list[str]]:
    """Media, link card and quote of a post's embed view; unknown kinds are listed, not fatal."""
    media: list[Media] = []
    card: LinkCard | None = None
    quote: Quote | None = None
    unsupported: list[str] = []
    if not isinstance(embed, dict):
        return (), None, None, unsupported
    kind = str(embed.get("$type") or "")
    if kind == "app.bsky.embed.record#view":
        quote = to_quote(embed.get("record"), unsupported)
    elif kind == "app.bsky.embed.recordWithMedia#view":
        quote = to_quote((embed.get("record") or {}).get("record"), unsupported)
        card = _add_media(embed.get("media"), web, media, unsupported)
    else:
        card = _add_media(embed, web, media, unsupported)
    return tuple(media), card, quote, unsupported


def _add_media(view: Any, web: str, media: list[Media], unsupported: list[str]) -> LinkCard | None:
    """Append the media of an images/video/gallery view; return the card of an external one."""
    if not isinstance(view, dict):
        return None
    kind = str(view.get("$type") or "")
    if kind == "app.bsky.embed.images#view":
        media.extend(to_image(image, "thumb") for image in view.get("images") or [])
    elif kind == "app.bsky.embed.gallery#view":
        for item in view.get("items") or []:
            item_kind = (item or {}).get("$type", "app.bsky.embed.gallery#viewImage")
            if item_kind == "app.bsky.embed.gallery#viewImage":
                media.append(to_image(item, "thumbnail"))
            else:
                unsupported.append(str(item_kind))
    elif kind == "app.bsky.embed.video#view":
        media.append(to_video(view, web))
    elif kind == "app.bsky.embed.external#view":
        return to_card(view.get("external"))
    else:
        unsupported.append(kind or "embed without $type")
    return None


def to_image(view: dict[str, Any], thumb_key: str) -> Media:
    ratio = view.get("aspectRatio") or {}
    return Media(
        kind="image",
        alt=str(view.get("alt") or "").strip(),
        source=str(view.get("fullsize") or view.get(thumb_key) or ""),
        width=_positive(ratio.get("width")),
        height=_positive(ratio.get("height")),
    )


def to_video(view: dict[str, Any], web: str) -> Media:
    """The poster image is re-hosted; readers follow the link to watch on Bluesky."""
    ratio = view.get("aspectRatio") or {}
    return Media(
        kind="gifv" if view.get("presentation") == "gif" else "video",
        alt=str(view.get("alt") or "").strip(),
        source=str(view.get("thumbnail") or ""),
        url=web,
        width=_positive(ratio.get("width")),
        height=_positive(ratio.get("height")),
    )


def to_card(external: Any) -> LinkCard | None:
    if not isinstance(external, dict) or not external.get("uri"):
        return None
    url = clean_url(str(external["uri"]))
    if not _is_web_url(url):
        return None
    thumb = external.get("thumb")
    return LinkCard(
        url=url,
        title=str(external.get("title") or "").strip(),
        description=str(external.get("description") or "").strip(),
        image=Media(kind="image", source=thumb) if isinstance(thumb, str) and thumb else None,
    )


def to_quote(view: Any, unsupported: list[str]) -> Quote | None:
    """A quoted post (``app.bsky.embed.record#view*``), or why it cannot be shown."""
    if not isinstance(view, dict):
        return None
    kind = str(view.get("$type") or "")
    uri = str(view.get("uri") or "")
    if kind == "app.bsky.embed.record#viewRecord":
        author = view.get("author") or {}
        url = post_url(str(author.get("did") or _did_of_uri(uri)), _rkey(uri))
        origin = to_origin(author, url)
        if has_label(author.get("labels"), NO_UNAUTHENTICATED) or has_label(
            view.get("labels"), NO_UNAUTHENTICATED
        ):
            return Quote(origin=origin, unavailable=QUOTE_LOGGED_IN_ONLY)
        value = view.get("value") or {}
        return Quote(
            origin=origin,
            text_html=facets_to_html(str(value.get("text") or ""), value.get("facets")),
            published=_post_time(value, view),
        )
    unavailable = {
        "app.bsky.embed.record#viewNotFound": QUOTE_DELETED,
        "app.bsky.embed.record#viewBlocked": QUOTE_BLOCKED,
        "app.bsky.embed.record#viewDetached": QUOTE_DETACHED,
    }.get(kind)
    if unavailable is None:
        # Feeds, lists, starter packs and labelers can be embedded too; not shown yet.
        unsupported.append(kind or "record embed without $type")
        return None
    did = _did_of_uri(uri)
    origin = Origin(name="Bluesky", url=post_url(did, _rkey(uri)) if did else "")
    return Quote(origin=origin, unavailable=unavailable)


def to_content_warning(record: dict[str, Any], labels: Any) -> str:
    """The author's self-labels (and the same values from the AppView) as a German warning."""
    values: list[str] = []
    self_labels = record.get("labels")
    if isinstance(self_labels, dict):
        for label in self_labels.get("values") or []:
            if isinstance(label, dict) and isinstance(label.get("val"), str):
                values.append(label["val"])
    if isinstance(labels, list):
        for label in labels:
            if (
                isinstance(label, dict)
                and label.get("val") in CONTENT_LABELS
                and not label.get("neg")
            ):
                values.append(str(label["val"]))
    warnings: list[str] = []
    for value in values:
        if not value or value.startswith("!"):
            continue  # "!" values steer apps (e.g. !no-unauthenticated); they warn of nothing
        text = CONTENT_LABELS.get(value, value)
        if text not in warnings:
            warnings.append(text)
    return ", ".join(warnings)


def to_hashtags(record: dict[str, Any]) -> tuple[str, ...]:
    """Tags of the (well-formed) tag facets, then the record's extra ``tags``; each once."""
    data = str(record.get("text") or "").encode("utf-8", errors="replace")
    found = [
        str(feature["tag"])
        for _start, _end, feature in valid_facets(data, record.get("facets"))
        if feature["$type"] == "app.bsky.richtext.facet#tag"
    ]
    found.extend(str(tag) for tag in record.get("tags") or [])
    tags: list[str] = []
    seen: set[str] = set()
    for tag in found:
        tag = tag.strip().lstrip("#")
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tuple(tags)


# ---------------------------------------------------------------------------------------------
# Rich text: facets are byte ranges into the UTF-8 encoded text


def facets_to_html(text: str, facets: Any) -> str:
    """Text plus facets as safe HTML: escaped text, cleaned links, mention and hashtag spans,
    ``<p>`` per paragraph and ``<br>`` per line break. Malformed facets are ignored."""
    data = text.encode("utf-8", errors="replace")  # offsets count these bytes
    pieces: list[tuple[bool, str]] = []  # (is_markup, plain text or finished markup)
    position = 0
    for start, end, feature in valid_facets(data, facets):
        if start > position:
            pieces.append((False, _decode(data[position:start])))
        pieces.append((True, _facet_markup(_decode(data[start:end]), feature)))
        position = end
    if position < len(data):
        pieces.append((False, _decode(data[position:])))
    return sanitize_html(_paragraphs(pieces))


def valid_facets(data: bytes, facets: Any) -> list[tuple[int, int, dict[str, Any]]]:
    """The usable facets in text order: in bounds, not reversed or empty, on character
    boundaries, not overlapping an earlier one, with a feature we know."""
    if not isinstance(facets, list):
        return []
    candidates: list[tuple[int, int, dict[str, Any]]] = []
    for facet in facets:
        if not isinstance(facet, dict) or not isinstance(facet.get("index"), dict):
            continue
        start = facet["index"].get("byteStart")
        end = facet["index"].get("byteEnd")
        if not _is_int(start) or not _is_int(end):
            continue
        if not 0 <= start < end <= len(data):
            continue
        if not (_on_boundary(data, start) and _on_boundary(data, end)):
            continue
        feature = _known_feature(facet.get("features"))
        if feature is not None:
            candidates.append((start, end, feature))
    candidates.sort(key=lambda c: (c[0], c[1]))
    kept: list[tuple[int, int, dict[str, Any]]] = []
    last_end = 0
    for candidate in candidates:
        if candidate[0] >= last_end:
            kept.append(candidate)
            last_end = candidate[1]
    return kept


def _known_feature(features: Any) -> dict[str, Any] | None:
    required = {
        "app.bsky.richtext.facet#link": "uri",
        "app.bsky.richtext.facet#mention": "did",
        "app.bsky.richtext.facet#tag": "tag",
    }
    for feature in features if isinstance(features, list) else []:
        if not isinstance(feature, dict):
            continue
        key = required.get(str(feature.get("$type")))
        if key and isinstance(feature.get(key), str) and feature[key]:
            return feature
    return None


def _facet_markup(shown: str, feature: dict[str, Any]) -> str:
    kind = feature["$type"]
    if kind == "app.bsky.richtext.facet#link":
        target = clean_url(feature["uri"])
        if not _is_web_url(target):
            return _escape_lines(shown)
        text = link_text(shown, feature["uri"], target)
        return f'<a href="{escape(target, quote=True)}">{_escape_lines(text)}</a>'
    css = "mention" if kind == "app.bsky.richtext.facet#mention" else "hashtag"
    return f'<span class="{css}">{_escape_lines(shown)}</span>'


def link_text(shown: str, original: str, cleaned: str) -> str:
    """What a link reads as. Bluesky shows a URL shortened ("musterstadt.de/abfall/kal...");
    when the text is (a shortening of) the link itself, show the cleaned URL the same way, so
    trackers do not survive in the text. Any other text stays as written."""
    bare_shown = _bare(shown)
    truncated = bare_shown.endswith(("...", "…"))
    stem = bare_shown.rstrip(".…") if truncated else bare_shown
    if not stem or not (_bare(original).startswith(stem) or _bare(cleaned).startswith(stem)):
        return shown
    text = cleaned.split("://", 1)[-1]
    if not stem.startswith("www.") and text.startswith("www."):
        text = text[4:]
    if truncated and len(text) > len(stem):
        return text[: len(stem)] + "…"
    return text


def _bare(url: str) -> str:
    url = url.strip()
    url = url.split("://", 1)[1] if "://" in url[:10] else url
    return url[4:] if url.startswith("www.") else url


def _paragraphs(pieces: list[tuple[bool, str]]) -> str:
    paragraphs: list[list[tuple[bool, str]]] = [[]]
    for is_markup, content in pieces:
        if is_markup:
            paragraphs[-1].append((True, content))
            continue
        parts = _PARAGRAPH_BREAK.split(content.replace("\r\n", "\n").replace("\r", "\n"))
        paragraphs[-1].append((False, parts[0]))
        for part in parts[1:]:
            paragraphs.append([(False, part)])
    html: list[str] = []
    for paragraph in paragraphs:
        if paragraph and not paragraph[0][0]:
            paragraph[0] = (False, paragraph[0][1].lstrip())
        if paragraph and not paragraph[-1][0]:
            paragraph[-1] = (False, paragraph[-1][1].rstrip())
        inner = "".join(c if is_markup else _escape_lines(c) for is_markup, c in paragraph)
        if inner.strip():
            html.append(f"<p>{inner}</p>")
    return "".join(html)


def _escape_lines(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "<br>".join(escape(line, quote=False) for line in text.split("\n"))


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _on_boundary(data: bytes, index: int) -> bool:
    """True unless ``index`` falls inside a multi-byte character (on a continuation byte)."""
    return index == len(data) or (data[index] & 0xC0) != 0x80


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _rkey(uri: str) -> str:
    """The record key: the last segment of ``at://<did>/<collection>/<rkey>``."""
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    if not uri.startswith("at://") or not rkey:
        raise ValueError(f"not an at:// record URI: {uri!r}")
    return rkey


def _did_of_uri(uri: str) -> str:
    if not uri.startswith("at://"):
        return ""
    return uri[len("at://") :].split("/", 1)[0]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _did_of_profile(profile: Any) -> str:
    return str(profile.get("did") or "") if isinstance(profile, dict) else ""


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = date_parser.isoparse(value)
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _post_time(record: dict[str, Any], view: dict[str, Any]) -> str:
    """``createdAt`` as the author's client set it; ``indexedAt`` if that is missing or broken."""
    created = _instant(record.get("createdAt"))
    if created is None:
        created = _instant(view.get("indexedAt"))
    if created is None:
        raise ValueError("post without a readable createdAt or indexedAt")
    return normalize_time(created)


def _positive(value: Any) -> int | None:
    return value if _is_int(value) and value > 0 else None


def _is_web_url(url: str) -> bool:
    scheme, _, rest = url.partition("://")
    return scheme.lower() in ("http", "https") and bool(rest.split("/", 1)[0])
