"""Telegram: the posts of a public channel, read from its web preview ``https://t.me/s/<channel>``.

The preview needs no account and no bot: it is the page Telegram shows to browsers without the
app (https://telegram.org/faq_channels#q-what-39s-the-difference-between-public-and-private-cha
explains public channels and their t.me links). Its markup is not documented; the class names
read here are those of the live pages (``tgme_widget_message``, ``..._text``,
``..._photo_wrap``, ``..._link_preview``, ``..._forwarded_from``, ``..._meta``) and are checked
against recorded pages. Parsing is beautifulsoup4 (https://www.crummy.com/software/BeautifulSoup/).

- A page shows the 20 newest messages, oldest first; ``?before=<id>`` shows the ones before.
  The first run pages back up to ``max_pages``; later runs read the first page and go back only
  until they reach a message they already hold (``newest_id`` in the state).
- Text keeps its formatting (bold, italic, code, links), sanitized, links cleaned; the channel's
  hashtag links (``?q=%23...``) become hashtags. Hrefs the page escapes twice (``&amp;amp;``)
  are unescaped once more.
- Photos and albums (``background-image:url(...)`` of ``tgme_widget_message_photo_wrap``) are
  re-hosted; videos become their poster with a link out; a link preview becomes a link card; a
  forwarded message is marked as shared from its origin.
- The page marks an edited message only with the word "edited", without a time: the time
  Aushang first saw the mark is kept in the state (``edited_seen``) and used as the edit time,
  the same on every later run.
- View counts, reactions and the channel's avatar change without the message changing; they are
  removed from the stored HTML so that a run with nothing new writes nothing.
- A channel without a public preview (t.me/s/<name> redirects to t.me/<name>, or the page has
  no message list) is an error that says so, never zero posts.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
from bs4 import BeautifulSoup, Tag

from ..clean.html import sanitize_html
from ..clean.links import clean_url
from ..errors import SourceError
from ..model import LinkCard, Media, Origin, Post, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Source

PREVIEW_PATH = "/s/{channel}"
WEB = "https://t.me/"
# Public usernames: 5-32 characters, letters, digits and underscores
# (https://telegram.org/faq#q-what-can-i-use-as-my-username).
CHANNEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_BACKGROUND = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", re.I)
_BREAKS = re.compile(r"(?:\s*<br\s*/?>\s*){2,}")
# Parts of the page that change on every visit (or hold nothing of the message).
_VOLATILE = (
    ".tgme_widget_message_views",
    ".copyonly",
    ".tgme_widget_message_user",
    ".tgme_widget_message_bubble_tail",
    ".tgme_widget_message_reactions",
)


class TelegramSource(Source):
    name: ClassVar[str] = "telegram"
    label: ClassVar[str] = "Telegram"
    docs: ClassVar[str] = "plattformen/telegram.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "channel",
            "the public channel's name as in its t.me link, without @",
            example="musterstadt",
        ),
    )
    default_api_base: ClassVar[str] = "https://t.me"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        channel = channel_name(account.params["channel"])
        if not CHANNEL.match(channel):
            raise SourceError(
                f"{channel!r} is not the name of a public Telegram channel (5-32 letters, digits"
                " or _, as in its t.me link); check `channel` in aushang.yml",
                account=account.key,
            )
        url = f"{account.api_base}{PREVIEW_PATH.format(channel=channel)}"
        state = context.state
        newest = _int(state.get("newest_id"))
        edited_seen: dict[str, str] = dict(state.get("edited_seen") or {})
        now = normalize_time(datetime.now(UTC))
        highest = newest
        before: int | None = None
        for _page in range(context.max_pages):
            response = context.http.get(
                url,
                params={"before": before} if before else None,
                # English markup ("edited", "Forwarded from") whatever the server's locale.
                headers={"Accept": "text/html", "Accept-Language": "en"},
                account=account.key,
            )
            messages = read_page(response, channel, account=account.key, shown=url)
            if not messages:
                break
            for message in sorted(messages, key=lambda m: m.number, reverse=True):
                if message.service:
                    continue
                raw: dict[str, Any] = {"channel": channel, "html": message.html}
                if message.edited:
                    raw["edited_seen"] = edited_seen.setdefault(str(message.number), now)
                try:
                    yield Fetched(to_post(raw, account), raw)
                except (KeyError, TypeError, ValueError) as exc:
                    context.log.warning(
                        "%s: skipped malformed message %s (%s)", account.key, message.number, exc
                    )
            numbers = [m.number for m in messages]
            highest = max(highest or 0, *numbers)
            lowest = min(numbers)
            if newest is not None and lowest <= newest:
                break  # reached what the archive already holds
            if lowest <= 1 or (before is not None and lowest >= before):
                break  # the first message of the channel, or a page that did not go back
            before = lowest
        if highest:
            state["newest_id"] = highest
        if edited_seen:
            state["edited_seen"] = edited_seen


def channel_name(value: str) -> str:
    """``musterstadt`` from ``musterstadt``, ``@musterstadt`` or ``https://t.me/musterstadt``."""
    name = value.strip()
    for prefix in ("https://t.me/s/", "https://t.me/", "http://t.me/", "t.me/", "@"):
        name = name.removeprefix(prefix)
    return name.strip("/")


@dataclass(frozen=True)
class Message:
    number: int
    html: str  # the message's element without volatile parts (the raw payload)
    edited: bool
    service: bool  # "channel created", "photo updated": not a post


def read_page(
    response: httpx.Response, channel: str, *, account: str = "", shown: str = ""
) -> list[Message]:
    """The messages of one preview page; a page that is not a channel preview raises."""
    final = urlsplit(str(response.url))
    redirected = not final.path.rstrip("/").lower().endswith(f"/s/{channel.lower()}")
    soup = BeautifulSoup(response.content, "html.parser")
    history = soup.select_one(".tgme_channel_history")
    elements = soup.select("div.tgme_widget_message[data-post]")
    if redirected or (history is None and not elements):
        what = f"redirects to {final.path}" if redirected else "shows no messages"
        raise SourceError(
            f"the Telegram channel {channel!r} has no public web preview (t.me/s/{channel} "
            f"{what}). Only public channels with a t.me address can be archived: check the "
            "channel name in aushang.yml",
            account=account,
            url=shown,
        )
    messages = []
    for element in elements:
        number = message_number(str(element.get("data-post") or ""))
        if number is None:
            continue
        classes = element.get_attribute_list("class")
        messages.append(
            Message(
                number=number,
                html=stable_html(element),
                edited=is_edited(element),
                service="service_message" in classes,
            )
        )
    return messages


def message_number(data_post: str) -> int | None:
    """``123`` from ``data-post="channel/123"``."""
    _, _, number = data_post.rpartition("/")
    return int(number) if number.isdigit() else None


def stable_html(element: Tag) -> str:
    """The message's markup without what changes from one visit to the next."""
    message = copy.copy(element)
    for selector in _VOLATILE:
        for part in message.select(selector):
            part.decompose()
    for attribute in ("data-view",):
        del message[attribute]
    return str(message)


def is_edited(message: Tag) -> bool:
    for meta in message.select(".tgme_widget_message_meta"):
        words = meta.get_text(" ", strip=True).lower()
        date = meta.select_one(".tgme_widget_message_date")
        if date is not None:
            words = words.replace(date.get_text(" ", strip=True).lower(), " ")
        if "edited" in words.split():
            return True
    return False


def unescape_twice(url: str) -> str:
    """Undo the second HTML escape the preview applies to some hrefs (``&amp;amp;``)."""
    return unescape(url) if "&amp;" in url else url


# ---------------------------------------------------------------------------------------------
# Conversion (pure)


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one message (``{"channel": ..., "html": ..., "edited_seen": ...}``). Pure."""
    channel = str(raw["channel"])
    soup = BeautifulSoup(str(raw["html"]), "html.parser")
    message = soup.select_one("div.tgme_widget_message[data-post]")
    if message is None:
        raise ValueError("no tgme_widget_message element")
    number = message_number(str(message.get("data-post")))
    if number is None:
        raise ValueError(f"no message number in data-post {message.get('data-post')!r}")
    native_id = str(number)
    date = message.select_one(".tgme_widget_message_date")
    time = date.select_one("time[datetime]") if date is not None else None
    if time is None:
        raise ValueError(f"message {native_id} has no date")
    own_url = f"{WEB}{channel}/{native_id}"
    url = clean_url(_absolute(str(date.get("href") or "")) if date is not None else "") or own_url
    hashtags: list[str] = []
    text = message.select_one(".tgme_widget_message_text.js-message_text")
    if text is None:  # older markup without the js- class; never the replied-to text
        text = next(
            (
                t
                for t in message.select(".tgme_widget_message_text")
                if t.find_parent(class_="tgme_widget_message_reply") is None
            ),
            None,
        )
    edited = None
    if is_edited(message) and raw.get("edited_seen"):
        edited = normalize_time(str(raw["edited_seen"]))
    return Post(
        id=post_id(TelegramSource.name, account.key, native_id),
        platform=TelegramSource.name,
        account=account.key,
        native_id=native_id,
        url=url,
        published=normalize_time(str(time["datetime"])),
        edited=edited,
        text_html=to_text_html(text, hashtags) if text is not None else "",
        media=to_media(message, url),
        card=to_card(message),
        repost_of=to_origin(message),
        reply_to=_reply_to(message, channel, account),
        hashtags=tuple(dict.fromkeys(hashtags)),
    )


def to_text_html(text: Tag, hashtags: list[str]) -> str:
    """The message text as safe HTML; collects the hashtags it links to."""
    text = copy.copy(text)
    for emoji in text.select("i.emoji"):  # an emoji drawn as an image, its character inside
        emoji.replace_with(emoji.get_text())
    for custom in text.find_all("tg-emoji"):
        custom.unwrap()
    for span in text.find_all("span"):
        if not span.get_text(strip=True):  # the spacer that keeps text clear of the time
            span.decompose()
    for link in text.find_all("a"):
        href = unescape_twice(str(link.get("href") or ""))
        shown = link.get_text()
        if href.startswith("?q=") and shown.startswith("#"):  # the channel's own hashtag search
            hashtags.append(shown[1:])
            tag = soup_tag("span", shown, **{"class": "hashtag"})
            link.replace_with(tag)
            continue
        link["href"] = _absolute(href)
    paragraphs = _BREAKS.split(text.decode_contents().strip())
    html = "".join(f"<p>{part.strip()}</p>" for part in paragraphs if part.strip())
    return sanitize_html(html)


def soup_tag(name: str, text: str, **attributes: str) -> Tag:
    tag = BeautifulSoup("", "html.parser").new_tag(name, attrs=attributes)
    tag.string = text
    return tag


def to_media(message: Tag, message_url: str) -> tuple[Media, ...]:
    """Photos (albums too), video posters and voice messages, in the order shown."""
    found: list[Media] = []
    selector = (
        "a.tgme_widget_message_photo_wrap, a.tgme_widget_message_video_player,"
        " .tgme_widget_message_roundvideo_player, audio.tgme_widget_message_voice"
    )
    for item in message.select(selector):
        if item.find_parent(
            class_=("tgme_widget_message_reply", "tgme_widget_message_link_preview")
        ):
            continue
        classes = item.get_attribute_list("class")
        link = clean_url(_absolute(str(item.get("href") or ""))) or message_url
        if "tgme_widget_message_photo_wrap" in classes:
            source = _background(item)
            if source:
                found.append(Media(kind="image", source=source))
        elif item.name == "audio":
            found.append(Media(kind="audio", url=message_url))
        else:
            thumb = item.select_one(
                ".tgme_widget_message_video_thumb, .tgme_widget_message_roundvideo_thumb"
            )
            poster = _background(thumb) if thumb is not None else ""
            found.append(Media(kind="video", source=poster, url=link))
    return tuple(found)


def to_card(message: Tag) -> LinkCard | None:
    preview = message.select_one("a.tgme_widget_message_link_preview")
    if preview is None:
        return None
    url = clean_url(_absolute(unescape_twice(str(preview.get("href") or ""))))
    if not url:
        return None
    title = _text_of(preview, ".link_preview_title") or _text_of(preview, ".link_preview_site_name")
    image_tag = preview.select_one(".link_preview_image, .link_preview_right_image")
    source = _background(image_tag) if image_tag is not None else ""
    return LinkCard(
        url=url,
        title=title,
        description=_text_of(preview, ".link_preview_description"),
        image=Media(kind="image", source=source) if source else None,
    )


def to_origin(message: Tag) -> Origin | None:
    forwarded = message.select_one(".tgme_widget_message_forwarded_from")
    if forwarded is None:
        return None
    named = forwarded.select_one(".tgme_widget_message_forwarded_from_name")
    name = (named or forwarded).get_text(" ", strip=True).removeprefix("Forwarded from").strip()
    href = _absolute(unescape_twice(str(named.get("href") or ""))) if named is not None else ""
    handle = ""
    parts = urlsplit(href)
    if parts.hostname == "t.me" and parts.path.strip("/"):
        handle = "@" + parts.path.strip("/").split("/")[0]
    return Origin(name=name, handle=handle, url=clean_url(href) if href else "")


def _reply_to(message: Tag, channel: str, account: AccountConfig) -> str | None:
    reply = message.select_one("a.tgme_widget_message_reply")
    if reply is None:
        return None
    parts = urlsplit(_absolute(str(reply.get("href") or "")))
    segments = parts.path.strip("/").split("/")
    if len(segments) == 2 and segments[0].lower() == channel.lower() and segments[1].isdigit():
        return post_id(TelegramSource.name, account.key, segments[1])
    return None  # an answer to someone else's message: the conversation is not archived


def _text_of(parent: Tag, selector: str) -> str:
    found = parent.select_one(selector)
    return " ".join(found.get_text(" ", strip=True).split()) if found is not None else ""


def _background(tag: Tag) -> str:
    match = _BACKGROUND.search(str(tag.get("style") or ""))
    return _absolute(unescape_twice(match.group(1))) if match else ""


def _absolute(url: str) -> str:
    """Hrefs on the preview are relative to t.me (``//cdn...``, ``/s/...``, ``?q=...``)."""
    url = url.strip()
    if not url:
        return ""
    resolved = urljoin(WEB, url)
    return resolved if urlsplit(resolved).scheme in ("http", "https") else ""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
