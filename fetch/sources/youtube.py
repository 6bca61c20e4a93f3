"""YouTube: the videos of one channel, from the channel's public Atom feed (no API key).

Feed: ``https://www.youtube.com/feeds/videos.xml?channel_id=UC...``, the address a channel page
announces with ``<link rel="alternate" type="application/rss+xml">``
(https://support.google.com/youtube/answer/6224202 names the feed; the format is Atom,
https://www.rfc-editor.org/rfc/rfc4287, with Media RSS https://www.rssboard.org/media-rss and
YouTube's ``yt:`` elements). It lists the channel's 15 newest videos, Shorts and streams.

- A video becomes a post with its title, its description (plain text, linkified) and its
  thumbnail, re-hosted as the poster of a video that links out to YouTube: the site embeds no
  player, so no reader's browser ever talks to YouTube unless they follow the link.
- ``<updated>`` and ``media:community`` (views, ratings) are not used or kept: YouTube changes
  them without the video changing, and every run would rewrite every post.
- The feed endpoint answers 404 and 500 now and then for channels that exist. Both are
  transient: a single 404 is retried once, then logged and counted in the state, and the run
  goes on without it; only after ``NOT_FOUND_RUNS`` runs in a row does the account report an
  error, naming the ``channel_id`` to check. A 5xx is retried and reported as every platform's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..clean.html import linkify_text
from ..clean.links import clean_url
from ..errors import TransientError
from ..model import Media, Post, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Source
from .feed import jsonable_entry, parse_xml_feed

FEED_PATH = "/feeds/videos.xml"
WATCH_URL = "https://www.youtube.com/watch?v={video_id}"
CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
# Runs in a row the feed may answer 404 before the account reports it as an error.
NOT_FOUND_RUNS = 3
_STATE_NOT_FOUND = "feed_not_found_runs"
_HASHTAG = re.compile(r"(?<![\w/&#])#(\w*[^\W\d_]\w*)")  # as fetch.clean.html marks them
# Changes on every visit without the video changing: never part of the raw payload.
_VOLATILE = ("updated", "updated_parsed")


class YouTubeSource(Source):
    name: ClassVar[str] = "youtube"
    label: ClassVar[str] = "YouTube"
    docs: ClassVar[str] = "plattformen/youtube.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "channel_id",
            "the channel's id, 24 characters starting with UC (not the @handle)",
            example="UCmUsTeRsTaDt0fFiZiElL2a",
        ),
    )
    default_api_base: ClassVar[str] = "https://www.youtube.com"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        channel_id = account.params["channel_id"].strip()
        url = f"{account.api_base}{FEED_PATH}"
        params = {"channel_id": channel_id}
        shown = context.http.redact(f"{url}?channel_id={channel_id}")
        if not CHANNEL_ID.match(channel_id):
            context.log.warning(
                "%s: channel_id %r does not look like a channel id (UC + 22 characters)",
                account.key,
                channel_id,
            )
        response = None
        for attempt in range(2):
            response = context.http.get(
                url,
                params=params,
                headers={"Accept": "application/atom+xml, application/xml;q=0.9"},
                account=account.key,
                ok=(404,),
            )
            if response.status_code != 404:
                break
            if attempt == 0:
                context.http.sleep(context.http.backoff)
        assert response is not None
        if response.status_code == 404:
            runs = int(context.state.get(_STATE_NOT_FOUND, 0)) + 1
            if runs >= NOT_FOUND_RUNS:
                # Raised, so the state (and the count in it) stays as it was: every further run
                # that still gets a 404 reports the same until the feed answers again.
                raise TransientError(
                    f"the feed answered 404 {runs} times in a row; check the channel_id "
                    f"{channel_id!r} (the channel's page names it in its RSS link)",
                    account=account.key,
                    url=shown,
                    status=404,
                )
            context.state[_STATE_NOT_FOUND] = runs
            context.log.warning(
                "%s: the YouTube feed answered 404 (run %d in a row; YouTube does this now and "
                "then, an error is reported after %d)",
                account.key,
                runs,
                NOT_FOUND_RUNS,
            )
            return
        context.state.pop(_STATE_NOT_FOUND, None)
        document = parse_xml_feed(
            response.content,
            response.headers.get("content-type", ""),
            f"https://www.youtube.com{FEED_PATH}?channel_id={channel_id}",
            account=account.key,
            shown_url=shown,
        )
        if document.warning:
            context.log.warning("%s: %s (%s)", account.key, document.warning, shown)
        for entry in document.entries:
            raw = {"channel_id": channel_id, "entry": stable_entry(entry)}
            try:
                yield Fetched(to_post(raw, account), raw)
            except (KeyError, TypeError, ValueError) as exc:
                context.log.warning("%s: skipped a malformed video entry (%s)", account.key, exc)


def stable_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry without what YouTube changes on every visit."""
    return {k: v for k, v in jsonable_entry(entry).items() if k not in _VOLATILE}


def video_id(entry: dict[str, Any]) -> str:
    found = str(entry.get("yt_videoid") or "").strip()
    if not found:
        found = str(entry.get("id") or "").removeprefix("yt:video:").strip()
    if not found or not re.fullmatch(r"[A-Za-z0-9_-]{6,20}", found):
        raise ValueError(f"no video id in entry {entry.get('id')!r}")
    return found


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one entry of a channel's feed (``{"channel_id": ..., "entry": ...}``). Pure."""
    entry: dict[str, Any] = raw["entry"]
    native_id = video_id(entry)
    watch = WATCH_URL.format(video_id=native_id)
    link = urlsplit(str(entry.get("link") or ""))
    # Shorts link to /shorts/<id>; a link off youtube.com is not taken for the video's page, and
    # old feeds' http:// links are written as https://.
    url = watch
    if link.hostname in ("www.youtube.com", "youtube.com") and link.path:
        url = clean_url(
            f"https://www.youtube.com{link.path}" + (f"?{link.query}" if link.query else "")
        )
    title = " ".join(str(entry.get("title") or "").split())
    description = str(entry.get("summary") or "")
    media: tuple[Media, ...] = ()
    thumbnails = [t for t in entry.get("media_thumbnail") or [] if t.get("url")]
    if thumbnails:
        thumbnail = thumbnails[0]
        media = (
            Media(
                kind="video",
                alt=title,  # the thumbnail shows the video; its title is the best words we have
                source=str(thumbnail["url"]),
                url=url,
                width=_number(thumbnail.get("width")),
                height=_number(thumbnail.get("height")),
            ),
        )
    return Post(
        id=post_id(YouTubeSource.name, account.key, native_id),
        platform=YouTubeSource.name,
        account=account.key,
        native_id=native_id,
        url=url,
        published=normalize_time(str(entry["published"])),
        title=title,
        text_html=linkify_text(description),
        media=media,
        hashtags=tuple(dict.fromkeys(_HASHTAG.findall(description))),
    )


def _number(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
