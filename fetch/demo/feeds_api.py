"""The feed-shaped parts of the demo server: website feeds, YouTube channel feeds and Telegram's
channel preview, rendered from ``data/website.yml``, ``data/youtube.yml`` and
``data/telegram.yml``.

- ``/feed/<host><path>``: RSS 2.0 (https://www.rssboard.org/rss-specification), Atom 1.0
  (RFC 4287) or JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), each with ``ETag`` and
  ``Last-Modified`` and a ``304`` for a matching ``If-None-Match`` / ``If-Modified-Since``.
- ``/youtube/feeds/videos.xml?channel_id=UC...``: the Atom feed YouTube serves for a channel,
  with its quirks (feed-level channel id without "UC"; ``<updated>`` and view counts that
  change on every request); an unknown channel is a 404 page, as on YouTube.
- ``/telegram/s/<channel>[?before=<id>]``: the web preview page of a public channel, 20
  messages a page, oldest first; a channel that is not listed redirects to
  ``/telegram/<channel>``, the page t.me shows for a channel without a public preview.

Shapes follow recorded real responses of each platform (see the READMEs of the payloads the
parsers were checked against); the content is invented Musterstadt news.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import yaml

from .server import Request, Response

DATA_DIR = Path(__file__).parent / "data"
TELEGRAM_PAGE_SIZE = 20  # what t.me/s shows per page


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
    return data


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _iso(value: Any) -> str:
    return _moment(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _conditional(request: Request, body: bytes, modified: datetime, content_type: str) -> Response:
    """Answer ``body`` with validators, or 304 when the client already has it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    last_modified = email.utils.format_datetime(modified.astimezone(UTC), usegmt=True)
    headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=300"}
    match = request.headers.get("if-none-match")
    since = request.headers.get("if-modified-since")
    not_modified = False
    if match is not None:
        not_modified = etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    elif since:
        try:
            not_modified = email.utils.parsedate_to_datetime(since) >= modified.replace(
                microsecond=0
            )
        except (TypeError, ValueError):
            not_modified = False
    if not_modified:
        return Response(304, b"", headers)
    return Response(200, body, {"Content-Type": content_type, **headers})


# ---------------------------------------------------------------------------------------------
# Website feeds


class FeedsDemo:
    """``/feed/<host><path>``: the city website's feeds."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.feeds: list[dict[str, Any]] = (data or _load("website.yml"))["feeds"]

    def feed(self, path: str) -> dict[str, Any]:
        for feed in self.feeds:
            if feed["path"] == path or f"{feed['host']}{feed['path']}" == path:
                return feed
        raise KeyError(path)

    def add_item(self, path: str, item: dict[str, Any]) -> None:
        """Publish a new item while the server runs (tests of incremental fetching)."""
        self.feed(path)["items"].append(item)

    def handle(self, request: Request) -> Response | None:
        if not request.path.startswith("/feed/"):
            return None
        wanted = request.path.removeprefix("/feed/")
        feed = next((f for f in self.feeds if f"{f['host']}{f['path']}" == wanted), None)
        if feed is None:
            return Response(
                404,
                b"<html><body><h1>Seite nicht gefunden</h1></body></html>",
                {"Content-Type": "text/html; charset=utf-8"},
            )
        media = f"{request.base}/media"
        items = sorted(feed["items"], key=lambda item: _moment(item["at"]), reverse=True)
        modified = max(
            (_moment(i.get("updated") or i["at"]) for i in items),
            default=_moment("2026-06-01T00:00:00Z"),
        )
        if feed["format"] == "rss":
            body, kind = self.rss(feed, items, media, modified), "application/rss+xml"
        elif feed["format"] == "atom":
            body, kind = self.atom(feed, items, media, modified), "application/atom+xml"
        else:
            body, kind = self.json_feed(feed, items, media), "application/feed+json"
        return _conditional(request, body, modified, f"{kind}; charset=utf-8")

    @staticmethod
    def _html(item: dict[str, Any], media: str) -> str:
        if item.get("html"):
            return str(item["html"]).replace("{media}", media).strip()
        return _text_to_html(str(item.get("text", "")))

    def rss(
        self, feed: dict[str, Any], items: list[dict[str, Any]], media: str, modified: datetime
    ) -> bytes:
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "\n<channel>\n",
            f"<title>{escape(feed['title'])}</title>\n<link>{escape(feed['link'])}</link>\n",
            f"<description>{escape(feed.get('description', ''))}</description>\n",
            f"<language>{escape(feed.get('language', 'de'))}</language>\n",
            f"<lastBuildDate>{email.utils.format_datetime(modified.astimezone(UTC), usegmt=True)}"
            "</lastBuildDate>\n<generator>Musterstadt-CMS 4.2</generator>\n",
        ]
        for item in items:
            date = item.get("date") or email.utils.format_datetime(_moment(item["at"]))
            parts.append("<item>\n")
            parts.append(f"<title>{escape(item['title'])}</title>\n")
            parts.append(f"<link>{escape(item['link'])}</link>\n")
            if item.get("guid"):
                parts.append(f'<guid isPermaLink="false">{escape(item["guid"])}</guid>\n')
            parts.append(f"<pubDate>{escape(str(date))}</pubDate>\n")
            for category in item.get("category") or []:
                parts.append(f"<category>{escape(category)}</category>\n")
            if item.get("html"):
                summary = item.get("summary") or ""
                parts.append(f"<description>{escape(summary)}</description>\n")
                body = self._html(item, media).replace("]]>", "]]&gt;")
                parts.append(f"<content:encoded><![CDATA[{body}]]></content:encoded>\n")
            else:
                parts.append(f"<description>{escape(str(item.get('text', '')))}</description>\n")
            enclosure = item.get("enclosure")
            if enclosure:
                url = f"{media}/{enclosure['seed']}.jpg" + (
                    "?gps=1" if enclosure.get("gps") else ""
                )
                parts.append(f'<enclosure url={quoteattr(url)} length="0" type="image/jpeg"/>\n')
            attachment = item.get("attachment")
            if attachment:
                parts.append(
                    f'<enclosure url={quoteattr(attachment["url"])} length="48213" '
                    f"type={quoteattr(attachment['type'])}/>\n"
                )
            parts.append("</item>\n")
        parts.append("</channel>\n</rss>\n")
        return "".join(parts).encode("utf-8")

    def atom(
        self, feed: dict[str, Any], items: list[dict[str, Any]], media: str, modified: datetime
    ) -> bytes:
        base = feed.get("base") or feed["link"]
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base={quoteattr(base)} '
            f"xml:lang={quoteattr(feed.get('language', 'de'))}>\n",
            f"<title>{escape(feed['title'])}</title>\n",
            f'<link rel="alternate" type="text/html" href={quoteattr(feed["link"])}/>\n',
            f"<id>tag:{feed['host']},2026:{escape(feed['path'])}</id>\n",
            f"<updated>{_iso(modified)}</updated>\n",
            "<author><name>Stadt Musterstadt, Pressestelle</name></author>\n",
        ]
        for item in items:
            parts.append("<entry>\n")
            parts.append(f'<title type="text">{escape(item["title"])}</title>\n')
            parts.append(f'<link rel="alternate" href={quoteattr(item["link"])}/>\n')
            parts.append(f"<id>{escape(item['id'])}</id>\n")
            parts.append(f"<published>{_iso(item['at'])}</published>\n")
            parts.append(f"<updated>{_iso(item.get('updated') or item['at'])}</updated>\n")
            parts.append(f'<content type="html">{escape(self._html(item, media))}</content>\n')
            enclosure = item.get("enclosure")
            if enclosure:
                url = f"{media}/{enclosure['seed']}.jpg" + (
                    "?gps=1" if enclosure.get("gps") else ""
                )
                parts.append(
                    f'<link rel="enclosure" type="image/jpeg" length="0" href={quoteattr(url)}/>\n'
                )
            parts.append("</entry>\n")
        parts.append("</feed>\n")
        return "".join(parts).encode("utf-8")

    def json_feed(self, feed: dict[str, Any], items: list[dict[str, Any]], media: str) -> bytes:
        entries = []
        for item in items:
            entry: dict[str, Any] = {
                "id": item["id"],
                "url": item["link"],
                "title": item["title"],
                "date_published": _iso(item["at"]),
            }
            if item.get("html"):
                entry["content_html"] = self._html(item, media)
            else:
                entry["content_text"] = str(item.get("text", "")).strip()
            if item.get("tags"):
                entry["tags"] = list(item["tags"])
            image = item.get("image")
            if image:
                entry["image"] = f"{media}/{image['seed']}.jpg" + (
                    "?gps=1" if image.get("gps") else ""
                )
            attachment = item.get("attachment")
            if attachment:
                entry["attachments"] = [
                    {
                        "url": f"{media}/{attachment['seed']}.jpg",
                        "mime_type": attachment["type"],
                        "title": attachment.get("title", ""),
                    }
                ]
            entries.append(entry)
        document = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": feed["title"],
            "home_page_url": feed["link"],
            "feed_url": f"https://{feed['host']}{feed['path']}",
            "language": feed.get("language", "de"),
            "authors": [{"name": "Stadtbücherei Musterstadt"}],
            "items": entries,
        }
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# YouTube


class YouTubeDemo:
    """``/youtube/feeds/videos.xml?channel_id=...``"""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.channels: list[dict[str, Any]] = (data or _load("youtube.yml"))["channels"]
        self.requests = 0  # drives the counters YouTube changes on every visit

    def add_video(self, channel_id: str, video: dict[str, Any]) -> None:
        self._channel(channel_id)["videos"].append(video)

    def _channel(self, channel_id: str) -> dict[str, Any]:
        for channel in self.channels:
            if channel["channel_id"] == channel_id:
                return channel
        raise KeyError(channel_id)

    def handle(self, request: Request) -> Response | None:
        if request.path != "/youtube/feeds/videos.xml":
            return None
        channel_id = request.param("channel_id") or ""
        try:
            channel = self._channel(channel_id)
        except KeyError:
            return Response(
                404,
                b'<!DOCTYPE html><html lang="en"><body>404</body></html>',
                {"Content-Type": "text/html; charset=utf-8"},
            )
        self.requests += 1
        media = f"{request.base}/media"
        web = f"https://www.youtube.com/channel/{channel_id}"
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
            'xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">\n',
            f' <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={channel_id}"/>\n',
            f" <id>yt:channel:{channel_id.removeprefix('UC')}</id>\n",
            f" <yt:channelId>{channel_id.removeprefix('UC')}</yt:channelId>\n",
            f" <title>{escape(channel['title'])}</title>\n",
            f' <link rel="alternate" href="{web}"/>\n',
            f" <author>\n  <name>{escape(channel['title'])}</name>\n",
            f"  <uri>{web}</uri>\n </author>\n",
            " <published>2019-03-01T08:00:00+00:00</published>\n",
        ]
        videos = sorted(channel["videos"], key=lambda v: _moment(v["at"]), reverse=True)[:15]
        for index, video in enumerate(videos):
            published = _moment(video["at"]).astimezone(UTC)
            updated = datetime.now(UTC).replace(microsecond=0)
            thumbnail = f"{media}/{video['thumbnail']}.jpg?gps=1&w=480&h=360"
            views = 1000 + 37 * self.requests + index
            parts.append(
                " <entry>\n"
                f"  <id>yt:video:{video['id']}</id>\n"
                f"  <yt:videoId>{video['id']}</yt:videoId>\n"
                f"  <yt:channelId>{channel_id}</yt:channelId>\n"
                f"  <title>{escape(video['title'])}</title>\n"
                f'  <link rel="alternate" href="https://www.youtube.com/watch?v={video["id"]}"/>\n'
                f"  <author>\n   <name>{escape(channel['title'])}</name>\n   <uri>{web}</uri>\n"
                "  </author>\n"
                f"  <published>{published.isoformat()}</published>\n"
                f"  <updated>{updated.isoformat()}</updated>\n"
                "  <media:group>\n"
                f"   <media:title>{escape(video['title'])}</media:title>\n"
                f'   <media:content url="https://www.youtube.com/v/{video["id"]}?version=3" '
                'type="application/x-shockwave-flash" width="640" height="390"/>\n'
                f'   <media:thumbnail url={quoteattr(thumbnail)} width="480" height="360"/>\n'
                f"   <media:description>{escape(str(video.get('description', '')).strip())}"
                "</media:description>\n"
                "   <media:community>\n"
                f'    <media:starRating count="{12 + index}" average="5.00" min="1" max="5"/>\n'
                f'    <media:statistics views="{views}"/>\n'
                "   </media:community>\n"
                "  </media:group>\n"
                " </entry>\n"
            )
        parts.append("</feed>\n")
        body = "".join(parts).encode("utf-8")
        return Response(200, body, {"Content-Type": "text/xml; charset=UTF-8"})


# ---------------------------------------------------------------------------------------------
# Telegram


class TelegramDemo:
    """``/telegram/s/<channel>``: a public channel's web preview."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.channels: list[dict[str, Any]] = (data or _load("telegram.yml"))["channels"]
        self.page_size = TELEGRAM_PAGE_SIZE
        self.requests = 0

    def add_message(self, username: str, message: dict[str, Any]) -> None:
        self._channel(username)["messages"].append(message)

    def edit_message(self, username: str, number: int, **changes: Any) -> None:
        for message in self._channel(username)["messages"]:
            if int(message["id"]) == number:
                message.update(changes)
                return
        raise KeyError(number)

    def _channel(self, username: str) -> dict[str, Any]:
        for channel in self.channels:
            if channel["username"].lower() == username.lower():
                return channel
        raise KeyError(username)

    def handle(self, request: Request) -> Response | None:
        match = re.fullmatch(r"/telegram/s/([A-Za-z0-9_]+)/?", request.path)
        if match is None:
            plain = re.fullmatch(r"/telegram/([A-Za-z0-9_]+)/?", request.path)
            return self._contact_page(plain.group(1)) if plain else None
        username = match.group(1)
        try:
            channel = self._channel(username)
        except KeyError:
            # t.me sends browsers of a channel without a public preview to its contact page.
            return Response(302, b"", {"Location": f"/telegram/{username}"})
        self.requests += 1
        before = request.param("before")
        messages = sorted(channel["messages"], key=lambda m: int(m["id"]))
        if before and before.isdigit():
            messages = [m for m in messages if int(m["id"]) < int(before)]
        page = messages[-self.page_size :]
        media = f"{request.base}/media"
        more = ""
        if page and int(page[0]["id"]) > int(messages[0]["id"]):
            first = page[0]["id"]
            more = (
                f'<a href="/s/{username}?before={first}" class="tme_messages_more '
                f'js-messages_more" data-before="{first}"></a>'
            )
        blocks = "".join(self._message(channel, m, media) for m in page)
        title = html.escape(channel["title"])
        document = (
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title} – Telegram</title>\n"
            f'<meta property="og:title" content="{title}">\n'
            f'<link rel="canonical" href="/s/{username}">\n'
            '<link href="//telegram.org/css/widget-frame.css?72" rel="stylesheet" media="screen">\n'
            "</head>\n"
            '<body class="widget_frame_base tgme_widget body_widget_post emoji_image nodark">\n'
            '<header class="tgme_header search_collapsed"><div class="tgme_container">'
            f'<div class="tgme_header_info"><div class="tgme_header_title">{title}</div></div>'
            "</div></header>\n"
            f'<main class="tgme_main" data-url="/{username}"><div class="tgme_container">'
            f'<section class="tgme_channel_history js-message_history">{more}{blocks}</section>'
            "</div></main>\n"
            '<script src="//telegram.org/js/widget-frame.js?64"></script>\n'
            "</body>\n</html>\n"
        )
        return Response(200, document.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})

    @staticmethod
    def _contact_page(username: str) -> Response:
        page = (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            f"<title>Telegram: Contact @{username}</title></head>"
            '<body class="tgme_page_body"><div class="tgme_page">'
            f'<div class="tgme_page_title"><span dir="auto">{username}</span></div>'
            '<div class="tgme_page_description">If you have <strong>Telegram</strong>, you can '
            f"contact @{username} right away.</div></div></body></html>"
        )
        return Response(200, page.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})

    def _message(self, channel: dict[str, Any], message: dict[str, Any], media: str) -> str:
        username = channel["username"]
        number = int(message["id"])
        at = _moment(message["at"]).astimezone(UTC)
        date = (
            f'<a class="tgme_widget_message_date" href="https://t.me/{username}/{number}">'
            f'<time datetime="{at.isoformat()}" class="time">{at:%H:%M}</time></a>'
        )
        if message.get("service"):
            return (
                '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
                '<div class="tgme_widget_message service_message js-widget_message" '
                f'data-post="{username}/{number}"><div class="tgme_widget_message_bubble">'
                f'<div class="tgme_widget_message_service_text">{html.escape(message["service"])}'
                '</div><div class="tgme_widget_message_footer">'
                f'<span class="tgme_widget_message_meta">{date}</span></div></div></div></div>'
            )
        views = f"{1.2 + (self.requests + number) / 10:.1f}K"
        view = base64.b64encode(
            json.dumps({"c": -1001234567, "p": number, "t": int(at.timestamp())}).encode()
        ).decode()
        parts = [
            '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
            '<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
            f'data-post="{username}/{number}" data-view="{view}">'
            '<div class="tgme_widget_message_user">'
            f'<a href="https://t.me/{username}"><i class="tgme_widget_message_user_photo bgcolor1" '
            f'data-content="M"><img src="{media}/telegram-avatar-{username}.jpg'
            f'?w=160&amp;h=160&amp;v={self.requests}"></i></a></div>'
            '<div class="tgme_widget_message_bubble">'
            '<i class="tgme_widget_message_bubble_tail"><svg class="bubble_icon" width="9px" '
            'height="20px" viewBox="0 0 9 20"><g fill="none"><path class="background" '
            'fill="#ffffff" d="M8,1 L9,1 L9,20 L8,20 L8,18 Z"></path></g></svg></i>'
            '<div class="tgme_widget_message_author accent_color">'
            f'<a class="tgme_widget_message_owner_name" href="https://t.me/{username}">'
            f'<span dir="auto">{html.escape(channel["title"])}</span></a></div>'
        ]
        forwarded = message.get("forwarded_from")
        if forwarded:
            parts.append(
                '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
                '<a class="tgme_widget_message_forwarded_from_name" '
                f'href="https://t.me/{forwarded["username"]}/{forwarded["post"]}">'
                f'<span dir="auto">{html.escape(forwarded["name"])}</span></a></div>'
            )
        photos = message.get("photos") or []
        if len(photos) == 1:
            parts.append(self._photo(username, number, photos[0], media, ""))
        elif photos:
            wraps = "".join(
                self._photo(
                    username, number + index, photo, media, " grouped_media_wrap", "?single"
                )
                for index, photo in enumerate(photos)
            )
            parts.append(
                '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap" '
                'data-margin-w="2" data-margin-h="2" style="width:800px;">'
                '<div class="tgme_widget_message_grouped js-message_grouped" '
                'style="padding-top:75%"><div class="tgme_widget_message_grouped_layer '
                'js-message_grouped_layer" style="width:800px;height:600px">'
                f"{wraps}</div></div></div>"
            )
        video = message.get("video")
        if video:
            poster = f"{media}/{video['seed']}.jpg?w=1280&h=720"
            parts.append(
                '<a class="tgme_widget_message_video_player blured js-message_video_player" '
                f'href="https://t.me/{username}/{number}">'
                '<i class="tgme_widget_message_video_thumb" '
                f"style=\"background-image:url('{poster}')\">"
                '</i><div class="tgme_widget_message_video_wrap"><video '
                'class="tgme_widget_message_video js-message_video" width="100%" height="100%">'
                '</video></div><div class="message_video_play"></div>'
                '<time class="message_video_duration js-message_video_duration">'
                f"{video.get('duration', '0:30')}</time></a>"
            )
        if message.get("text"):
            parts.append(
                '<div class="tgme_widget_message_text js-message_text before_footer" dir="auto">'
                f'{message["text"]}<span style="display: inline-block; width: 101px;"></span></div>'
            )
        preview = message.get("link_preview")
        if preview:
            image = ""
            if preview.get("image_seed"):
                image = (
                    '<i class="link_preview_right_image" style="background-image:url('
                    f"'{media}/{preview['image_seed']}.jpg?w=400&h=300')\"></i>"
                )
            parts.append(
                f'<a class="tgme_widget_message_link_preview" href="{preview["url"]}">{image}'
                '<div class="link_preview_site_name accent_color" dir="auto">'
                f"{html.escape(preview.get('site', ''))}</div>"
                f'<div class="link_preview_title" dir="auto">{html.escape(preview["title"])}</div>'
                '<div class="link_preview_description" dir="auto">'
                f"{html.escape(preview.get('description', ''))}</div></a>"
            )
        edited = "edited&nbsp;" if message.get("edited") else ""
        parts.append(
            '<div class="tgme_widget_message_footer compact js-message_footer">'
            '<div class="tgme_widget_message_info short js-message_info">'
            f'<span class="tgme_widget_message_views">{views}</span>'
            '<span class="copyonly"> views</span>'
            f'<span class="tgme_widget_message_meta">{edited}{date}</span></div></div>'
            "</div>"
            '<div class="tgme_widget_message_reactions js-message_reactions">'
            f'<span class="tgme_reaction">👍 {7 + self.requests}</span></div>'
            "</div></div>"
        )
        return "".join(parts)

    @staticmethod
    def _photo(
        username: str,
        number: int,
        photo: dict[str, Any],
        media: str,
        extra_class: str,
        suffix: str = "",
    ) -> str:
        url = f"{media}/{photo['seed']}.jpg" + ("?gps=1" if photo.get("gps") else "")
        return (
            f'<a class="tgme_widget_message_photo_wrap{extra_class} blured js-message_photo" '
            f'href="https://t.me/{username}/{number}{suffix}" '
            f"style=\"width:800px;background-image:url('{url}')\">"
            '<div class="tgme_widget_message_photo" style="padding-top:75%"></div></a>'
        )
