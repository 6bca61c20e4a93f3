"""History import: a city's older posts from the platforms' own data exports.

The APIs reach only so far back (X: about the newest 3,200 posts). For the years before, the
city downloads its data export and runs ``aushang import PLATFORM FILE --account KEY``. FILE is
the export as downloaded (a ``.zip``), the folder it was unpacked into, or the one JSON/JS file
that holds the posts. Nothing is downloaded: images come from the export itself and pass
through the same re-encoding as fetched ones (``MediaStore.variants_for``, so no EXIF or GPS
survives). Posts are written through ``Archive`` with the ids the API source would give them.

Supported exports:

- ``x``: "Download an archive of your data" (https://help.x.com/en/managing-your-account/
  how-to-download-your-x-archive). ``data/tweets.js`` and ``data/tweets-part<n>.js`` hold
  ``window.YTD.tweets.part0 = [ ... ]``. The prefix is checked and cut off and the rest parsed
  as JSON; the file is never run as code, and anything after the array but whitespace or one
  ``;`` is refused. Numbers are strings, ``full_text`` is HTML-escaped, entity ``indices`` count
  Unicode code points. Images come from ``data/tweets_media/<tweet id>-<file name>``. A post is
  keyed by the first id of its edit history, exactly as ``fetch.sources.x`` keys it, so an API
  fetch later finds the same post instead of a copy.
- ``facebook`` and ``instagram``: Meta's "Download your information" in JSON format
  (https://www.facebook.com/help/212802592074644):
  ``your_posts__check_ins__photos_and_videos_<n>.json`` and ``content/posts_<n>.json``, media
  as paths relative to the export's root. Meta writes
  UTF-8 bytes as ``\\u00XX`` escapes (mojibake): every text is repaired with
  ``text.encode("latin-1").decode("utf-8")`` where that round-trips. These exports carry no
  post ids, so an imported post gets a stable id of its own (``export-<time>-<hash>``) and a
  later API fetch could not recognize it. To keep the archive free of doubles, Facebook and
  Instagram imports take only posts OLDER than the oldest post the API has fetched for the
  account (``--before DATE`` sets the limit by hand when the account was never fetched).

Import is idempotent: importing the same export twice changes zero bytes. A post the API has
already fetched is never overwritten by its export version (``kept`` in the report).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .archive import Archive
from .clean.html import linkify_text
from .clean.links import clean_url
from .config import Config
from .errors import AushangError, ConfigError, MediaError
from .http import Http
from .media import MediaStore
from .model import LinkCard, Media, MediaKind, Origin, Post, post_id
from .sources.base import AccountConfig
from .sources.x import UrlEntity, render_text, snowflake_time
from .times import normalize_time

IMPORTED_FROM = "imported_from"  # Post.extra key marking a post that came from an export
MAX_JSON_BYTES = 512 * 1024 * 1024  # a decade of a busy account's posts, far below any RAM limit
MAX_MEDIA_BYTES = 50 * 1024 * 1024  # the same limit as a download (fetch.http)
_YTD_PREFIX = re.compile(r"\A\ufeff?\s*window\.YTD\.[A-Za-z0-9_]+\.part\d+\s*=\s*")
_X_POST_FILES = re.compile(r"(?:^|/)data/tweets?(?:-part\d+)?\.js$")
_X_ACCOUNT_FILE = re.compile(r"(?:^|/)data/account\.js$")
_FACEBOOK_POST_FILES = re.compile(
    r"(?:^|/)your_posts(?:__check_ins__photos_and_videos)?_\d+\.json$"
)
_INSTAGRAM_POST_FILES = re.compile(r"(?:^|/)content/posts_\d+\.json$")
_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".avif"})
_HASHTAG = re.compile(r"(?<![\w/&#])#(\w*[^\W\d_]\w*)")
_NO_LANGUAGE = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "qst"})
_RETWEET_PREFIX = re.compile(r"^RT @(\w{1,15}): ")


class ExportError(AushangError):
    """An export that cannot be read: names the file and what is wrong with it."""


@dataclass
class ImportReport:
    platform: str
    account: str
    found: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # already fetched through the API: the API version stays
    skipped: int = 0  # not archived: replies to others, newer than the API limit, empty
    media: int = 0
    media_missing: int = 0
    notes: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [
            f"{self.account} ({self.platform}): {self.found} posts in the export, "
            f"new {self.new}, updated {self.updated}, unchanged {self.unchanged}, "
            f"kept {self.kept} (already fetched), skipped {self.skipped}; "
            f"media {self.media} re-encoded, {self.media_missing} missing in the export"
        ]
        lines.extend(f"  {note}" for note in self.notes)
        return lines


# ---------------------------------------------------------------------------------------------
# Reading an export: a zip, a folder, or a single file


class Export:
    """The files of an export, by their path inside it ("data/tweets.js"), from a zip or disk.

    Nothing is extracted: a zip member's name is only ever compared, never joined to a path on
    disk, so a hostile archive cannot write anywhere.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._files: dict[str, Path] = {}
        self._names: list[str] | None = None
        self._folders: dict[str, dict[str, str]] = {}
        self._tails: dict[str, list[str]] | None = None
        if path.is_dir():
            self._files = {
                p.relative_to(path).as_posix(): p for p in sorted(path.rglob("*")) if p.is_file()
            }
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
        elif path.is_file():
            # One file: the posts file itself; its folder holds the rest (tweets_media/, media/).
            root = path.parent.parent if path.parent.name == "data" else path.parent
            self._files = {
                p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()
            }
        else:
            raise ExportError(f"{path}: no such file or folder")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def names(self) -> list[str]:
        if self._names is None:
            if self._zip is not None:
                self._names = sorted(i.filename for i in self._zip.infolist() if not i.is_dir())
            else:
                self._names = sorted(self._files)
        return self._names

    def size(self, name: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(name).file_size
        return self._files[name].stat().st_size

    def read(self, name: str, limit: int) -> bytes:
        size = self.size(name)
        if size > limit:
            raise ExportError(f"{self.path}: {name} is larger than {limit} bytes")
        if self._zip is not None:
            with self._zip.open(name) as member:
                data = member.read(limit + 1)
        else:
            data = self._files[name].read_bytes()
        if len(data) > limit:
            raise ExportError(f"{self.path}: {name} is larger than {limit} bytes")
        return data

    def in_folder(self, folder: str) -> dict[str, str]:
        """The files directly in every folder called ``folder``, by file name."""
        if folder not in self._folders:
            found: dict[str, str] = {}
            for name in self.names():
                parts = name.split("/")
                if len(parts) >= 2 and parts[-2] == folder:
                    found.setdefault(parts[-1], name)
            self._folders[folder] = found
        return self._folders[folder]

    def find(self, pattern: re.Pattern[str]) -> list[str]:
        return [name for name in self.names() if pattern.search(name)]

    def resolve(self, relative: str, near: str = "") -> str | None:
        """The member a path in the export means (Meta's ``uri``), if the export has it.

        The path is relative to the export's root; when FILE was a folder or file deeper down,
        the longest tail of the path that names a member is taken.
        """
        wanted = PurePosixPath(relative.lstrip("/"))
        if ".." in wanted.parts or not wanted.parts:
            return None
        if self._tails is None:
            self._tails = {}
            for name in self.names():
                parts = name.split("/")
                for first in range(len(parts)):
                    self._tails.setdefault("/".join(parts[first:]), []).append(name)
        for first in range(len(wanted.parts)):
            candidates = self._tails.get("/".join(wanted.parts[first:]))
            if candidates:
                prefix = near.split("/")[0] + "/" if near else ""
                return min(candidates, key=lambda n: (not n.startswith(prefix), len(n), n))
        return None


@contextlib.contextmanager
def open_export(path: Path) -> Iterator[Export]:
    export = Export(path)
    try:
        yield export
    finally:
        export.close()


def parse_ytd(text: str, name: str) -> Any:
    """The JSON in an X archive ``.js`` file: ``window.YTD.<kind>.part<n> = <JSON>`` and nothing
    else. Only the documented prefix is removed; the file is parsed, never evaluated."""
    match = _YTD_PREFIX.match(text)
    if not match:
        raise ExportError(
            f"{name}: does not start with 'window.YTD.<name>.part<n> = '; is this a file from "
            "the X archive's data folder?"
        )
    decoder = json.JSONDecoder()
    try:
        data, end = decoder.raw_decode(text, match.end())
    except ValueError as exc:
        raise ExportError(f"{name}: not valid JSON after the prefix ({exc})") from None
    rest = text[end:].strip()
    if rest not in ("", ";"):
        raise ExportError(
            f"{name}: contains something after the JSON data ({rest[:40]!r}); refusing to read it"
        )
    return data


def fix_mojibake(value: Any) -> Any:
    """Meta's exports write each UTF-8 byte as a ``\\u00XX`` character: read them back as UTF-8.

    A text that does not round-trip (it holds characters above U+00FF, or its bytes are not
    UTF-8) was not mangled and stays as it is.
    """
    if isinstance(value, str):
        try:
            return value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value
    if isinstance(value, list):
        return [fix_mojibake(item) for item in value]
    if isinstance(value, dict):
        return {fix_mojibake(k): fix_mojibake(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Running an import


@dataclass
class ImportItem:
    """One post read from an export, before its media are re-encoded."""

    post: Post
    raw: dict[str, Any]
    # The export member each Media comes from: None when the export lacks it, "" when there
    # is nothing to take from the export (a video without a poster image).
    media_files: list[tuple[str | None, Media]]


Reader = Callable[["ImportContext"], Iterator[ImportItem]]


@dataclass
class ImportContext:
    account: AccountConfig
    export: Export
    archive: Archive
    report: ImportReport
    before: str | None = None  # ISO 8601: only posts published before this are imported


def run_import(
    config: Config, platform: str, path: Path, account_key: str, *, before: str | None = None
) -> ImportReport:
    """Import the export at ``path`` into the archive as posts of the account ``account_key``."""
    reader = READERS.get(platform)
    if reader is None:
        raise ConfigError(
            str(path), "", f"no import for {platform!r}; supported: {', '.join(sorted(READERS))}"
        )
    try:
        account = config.account(account_key)
    except KeyError:
        raise ConfigError(
            str(config.path), "accounts", f"no account with key {account_key!r}"
        ) from None
    if account.platform != platform:
        raise ConfigError(
            str(config.path),
            "accounts",
            f"account {account_key!r} is a {account.platform} account, not {platform}",
        )
    archive = Archive(config.archive_dir)
    report = ImportReport(platform, account.key)
    http = Http()  # MediaStore's type needs one; an import never downloads anything
    try:
        with archive.lock(), open_export(path) as export:
            context = ImportContext(account, export, archive, report, before)
            media = MediaStore(archive.media_dir, http, account=account.key)
            for item in reader(context):
                report.found += 1
                previous = archive.load_post(account.key, item.post.native_id)
                if previous is not None and IMPORTED_FROM not in previous.extra:
                    report.kept += 1
                    continue
                post = _with_local_media(context, media, item)
                changed = archive.save_post(post, item.raw)
                if previous is None:
                    report.new += 1
                elif changed:
                    report.updated += 1
                else:
                    report.unchanged += 1
    finally:
        http.client.close()
    report.found += report.skipped
    return report


def _with_local_media(context: ImportContext, store: MediaStore, item: ImportItem) -> Post:
    """The post with each image re-encoded from the export's own file."""
    import dataclasses

    media: list[Media] = []
    for name, entry in item.media_files:
        if name is None:
            context.report.media_missing += 1
            media.append(dataclasses.replace(entry, rejected="nicht im Export enthalten"))
            continue
        if not name:
            media.append(entry)  # nothing to show but the link to the post
            continue
        if entry.kind != "image" and not _is_image(name):
            media.append(entry)  # a video file: the site links out, nothing to re-encode
            continue
        try:
            data = context.export.read(name, MAX_MEDIA_BYTES)
            digest = hashlib.sha256(data).hexdigest()
            variants = store.variants_for(data, digest)
        except (MediaError, ExportError) as exc:
            media.append(dataclasses.replace(entry, rejected=str(exc) or "rejected"))
            continue
        context.report.media += 1
        media.append(
            dataclasses.replace(
                entry,
                variants=variants,
                sha256=digest,
                width=variants[-1].width,
                height=variants[-1].height,
            )
        )
    return dataclasses.replace(item.post, media=tuple(media))


def _is_image(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in _IMAGE_SUFFIXES


def _read_json(export: Export, name: str) -> Any:
    data = export.read(name, MAX_JSON_BYTES)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExportError(f"{export.path}: {name} is not valid JSON ({exc})") from None


# ---------------------------------------------------------------------------------------------
# X archive


def read_x_archive(context: ImportContext) -> Iterator[ImportItem]:
    export, account = context.export, context.account
    files = export.find(_X_POST_FILES)
    if not files:
        raise ExportError(
            f"{export.path}: no data/tweets.js in this export; is it the X archive "
            '("Download an archive of your data")?'
        )
    tweets: list[dict[str, Any]] = []
    for name in files:
        text = export.read(name, MAX_JSON_BYTES).decode("utf-8-sig")
        entries = parse_ytd(text, name)
        if not isinstance(entries, list):
            raise ExportError(f"{name}: expected a list of posts")
        for entry in entries:
            tweet = entry.get("tweet", entry) if isinstance(entry, dict) else None
            if isinstance(tweet, dict) and tweet.get("id_str"):
                tweets.append(tweet)
    own = _x_account(export)
    username = own.get("username") or account.params.get("username", "")
    own_id = own.get("accountId", "")
    keys = {}  # every version's id -> the id the post is archived under
    latest: dict[str, dict[str, Any]] = {}
    for tweet in tweets:
        key = x_archive_key(tweet)
        for version in _edit_ids(tweet) or [tweet["id_str"]]:
            keys[str(version)] = key
        keys[str(tweet["id_str"])] = key
        if key not in latest or _order(tweet["id_str"]) > _order(latest[key]["id_str"]):
            latest[key] = tweet
    for key in sorted(latest, key=_order):
        tweet = latest[key]
        if not _is_own_x_post(tweet, username, own_id):
            context.report.skipped += 1
            continue
        post = x_archive_to_post(tweet, account, username=username, own_keys=keys)
        media_files: list[tuple[str | None, Media]] = []
        for item, media in zip(_x_media_items(tweet), post.media, strict=True):
            member = _x_media_file(export, tweet, item)
            if member is None and media.kind != "image":
                media_files.append(("", media))  # a video without a poster in the export
                continue
            media_files.append((member, media))
        yield ImportItem(post, {"archive": "x", "tweet": tweet}, media_files)


def _x_account(export: Export) -> dict[str, str]:
    for name in export.find(_X_ACCOUNT_FILE):
        with contextlib.suppress(ExportError, UnicodeDecodeError):
            data = parse_ytd(export.read(name, 1024 * 1024).decode("utf-8-sig"), name)
            if isinstance(data, list) and data and isinstance(data[0], dict):
                account = data[0].get("account") or {}
                return {k: str(v) for k, v in account.items() if isinstance(v, str | int)}
    return {}


def _edit_ids(tweet: dict[str, Any]) -> list[str]:
    info = tweet.get("edit_info") or {}
    initial = info.get("initial") or (info.get("edit") or {}).get("editControlInitial") or {}
    return [str(i) for i in initial.get("editTweetIds") or []]


def x_archive_key(tweet: dict[str, Any]) -> str:
    """The id a post from the archive is stored under: the first of its edit history, as the
    API source keys it (``fetch.sources.x.archive_key``)."""
    edit = (tweet.get("edit_info") or {}).get("edit") or {}
    if edit.get("initialTweetId"):
        return str(edit["initialTweetId"])
    ids = _edit_ids(tweet)
    return ids[0] if ids else str(tweet["id_str"])


def _is_own_x_post(tweet: dict[str, Any], username: str, own_id: str) -> bool:
    """Posts, reposts and threads; not replies to other people."""
    reply_user = tweet.get("in_reply_to_user_id_str") or tweet.get("in_reply_to_user_id")
    if not reply_user:
        return True
    if own_id and str(reply_user) == own_id:
        return True
    screen_name = str(tweet.get("in_reply_to_screen_name") or "")
    return bool(username) and screen_name.lower() == username.lower()


def _order(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)


def x_archive_to_post(
    tweet: dict[str, Any],
    account: AccountConfig,
    *,
    username: str,
    own_keys: dict[str, str] | None = None,
) -> Post:
    """One post of the X archive as the Post the API source would make of it. Pure: no I/O."""
    from .sources.x import XSource

    latest_id = str(tweet["id_str"])
    native_id = x_archive_key(tweet)
    created = normalize_time(_x_time(str(tweet["created_at"])))
    published = snowflake_time(native_id) if native_id != latest_id else created
    text = str(tweet.get("full_text") or tweet.get("text") or "")
    entities = tweet.get("entities") or {}
    items = _x_media_items(tweet)
    urls = [
        UrlEntity(
            start=_int(u.get("indices", [0, 0])[0]),
            end=_int(u.get("indices", [0, 0])[1]),
            url=str(u["url"]),
            expanded=str(u.get("expanded_url") or ""),
        )
        for u in entities.get("urls") or []
        if u.get("url")
    ] + [
        UrlEntity(
            start=_int(m.get("indices", [0, 0])[0]),
            end=_int(m.get("indices", [0, 0])[1]),
            url=str(m["url"]),
            expanded=str(m.get("expanded_url") or ""),
            media=True,
        )
        for m in items
        if m.get("url")
    ]
    display = tweet.get("display_text_range") or [0, len(text)]
    start, end = _int(display[0]), _int(display[1])
    repost_of = None
    match = _RETWEET_PREFIX.match(text)
    if match:
        handle = match.group(1)
        mention: dict[str, Any] = next(
            (
                m
                for m in entities.get("user_mentions") or []
                if str(m.get("screen_name", "")).lower() == handle.lower()
            ),
            {},
        )
        repost_of = Origin(
            name=str(mention.get("name") or handle),
            handle=f"@{handle}",
            url=f"https://x.com/{handle}",
        )
        start = max(start, match.end())
    reply_to = None
    parent = tweet.get("in_reply_to_status_id_str")
    if parent:
        parent_key = (own_keys or {}).get(str(parent), str(parent))
        reply_to = post_id(XSource.name, account.key, parent_key)
    link_out = f"https://x.com/{username}/status/{latest_id}"
    media = tuple(_x_archive_media(item, link_out) for item in items)
    language = str(tweet.get("lang") or "")
    extra: dict[str, Any] = {IMPORTED_FROM: "x-archive"}
    if tweet.get("possibly_sensitive") in (True, "true"):
        extra["possibly_sensitive"] = True
    skip = {latest_id, native_id, *_edit_ids(tweet)}
    return Post(
        id=post_id(XSource.name, account.key, native_id),
        platform=XSource.name,
        account=account.key,
        native_id=native_id,
        url=link_out,
        published=published,
        edited=created if native_id != latest_id else None,
        text_html=render_text(text, urls, skip, start=start, end=end),
        language=None if not language or language in _NO_LANGUAGE else language,
        media=media,
        reply_to=reply_to,
        repost_of=repost_of,
        hashtags=tuple(
            dict.fromkeys(
                str(h.get("text")) for h in entities.get("hashtags") or [] if h.get("text")
            )
        ),
        extra=extra,
    )


def _x_time(value: str) -> datetime:
    """The archive's ``Thu Nov 03 08:50:26 +0000 2022``."""
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _int(value: Any) -> int:
    return int(str(value))


def _x_media_items(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    """Photos and videos; ``extended_entities`` lists all of them, ``entities`` only the first."""
    extended = (tweet.get("extended_entities") or {}).get("media")
    return list(extended or (tweet.get("entities") or {}).get("media") or [])


def _x_archive_media(item: dict[str, Any], link_out: str) -> Media:
    kind = str(item.get("type") or "photo")
    alt = str(item.get("ext_alt_text") or "").strip()
    size = (item.get("sizes") or {}).get("large") or {}
    width = _int(size["w"]) if size.get("w") else None
    height = _int(size["h"]) if size.get("h") else None
    if kind == "photo":
        return Media(kind="image", alt=alt, width=width, height=height)
    return Media(
        kind="gifv" if kind == "animated_gif" else "video",
        alt=alt,
        url=link_out,
        width=width,
        height=height,
    )


def _x_media_file(export: Export, tweet: dict[str, Any], item: dict[str, Any]) -> str | None:
    """The export's copy of a photo (or a video's poster): ``tweets_media/<id>-<name>``."""
    tweet_id = str(tweet["id_str"])
    url = str(item.get("media_url_https") or item.get("media_url") or "")
    basename = PurePosixPath(url.split("?")[0]).name
    if not basename:
        return None
    return export.in_folder("tweets_media").get(f"{tweet_id}-{basename}")


# ---------------------------------------------------------------------------------------------
# Meta: Facebook and Instagram ("Download your information", JSON)


def _api_limit(context: ImportContext) -> str:
    """Posts published before this are imported: the oldest fetched post, or ``--before``."""
    if context.before:
        return context.before
    oldest = min(
        (
            post.published
            for post in context.archive.iter_posts(context.account.key)
            if IMPORTED_FROM not in post.extra
        ),
        default=None,
    )
    if oldest is None:
        raise ExportError(
            f"{context.account.key}: Meta's exports carry no post ids, so the import takes only "
            "posts older than the oldest one the API has fetched, and this account has none "
            "yet. Run 'aushang fetch' first, or give the limit with --before YYYY-MM-DD."
        )
    return oldest


def read_facebook_export(context: ImportContext) -> Iterator[ImportItem]:
    export = context.export
    files = export.find(_FACEBOOK_POST_FILES)
    if not files:
        raise ExportError(
            f"{export.path}: no your_posts__check_ins__photos_and_videos_1.json; was the export "
            "made in JSON format (not HTML)?"
        )
    limit = _api_limit(context)
    page_id = context.account.params.get("page_id", "")
    url = f"https://www.facebook.com/{page_id}" if page_id else "https://www.facebook.com/"
    for name in files:
        items = fix_mojibake(_read_json(export, name))
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not item.get("timestamp"):
                continue
            text = next(
                (
                    str(d["post"])
                    for d in item.get("data") or []
                    if isinstance(d, dict) and d.get("post")
                ),
                "",
            )
            media_entries: list[tuple[str, str]] = []  # (uri, description)
            card = None
            for attachment in item.get("attachments") or []:
                for data in attachment.get("data") or []:
                    media = data.get("media") or {}
                    if media.get("uri"):
                        media_entries.append(
                            (str(media["uri"]), str(media.get("description") or ""))
                        )
                    context_data = data.get("external_context") or {}
                    if context_data.get("url") and card is None:
                        link = clean_url(str(context_data["url"]))
                        if link:
                            card = LinkCard(url=link, title=str(context_data.get("name") or ""))
            if not text and len(media_entries) == 1:
                text = media_entries[0][1]
            item_raw = {"export": "facebook", "item": _without_camera_data(item)}
            built = _meta_item(
                context,
                item_raw,
                int(item["timestamp"]),
                text,
                media_entries,
                url,
                card,
                limit,
                name,
            )
            if built is not None:
                yield built


def read_instagram_export(context: ImportContext) -> Iterator[ImportItem]:
    export = context.export
    files = export.find(_INSTAGRAM_POST_FILES)
    if not files:
        raise ExportError(
            f"{export.path}: no content/posts_1.json; was the export made in JSON format?"
        )
    limit = _api_limit(context)
    url = "https://www.instagram.com/"
    for name in files:
        items = fix_mojibake(_read_json(export, name))
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            media = [m for m in item.get("media") or [] if isinstance(m, dict) and m.get("uri")]
            timestamp = item.get("creation_timestamp") or (
                media[0].get("creation_timestamp") if media else None
            )
            if not timestamp:
                continue
            text = str(item.get("title") or (media[0].get("title") if media else "") or "")
            entries = [(str(m["uri"]), "") for m in media]
            item_raw = {"export": "instagram", "item": _without_camera_data(item)}
            built = _meta_item(
                context, item_raw, int(timestamp), text, entries, url, None, limit, name
            )
            if built is not None:
                yield built


def _without_camera_data(value: Any) -> Any:
    """The export item without ``media_metadata`` (camera EXIF, GPS position): the raw payload
    is kept in the archive, and a photo's position must not survive there either."""
    if isinstance(value, list):
        return [_without_camera_data(item) for item in value]
    if isinstance(value, dict):
        return {k: _without_camera_data(v) for k, v in value.items() if k != "media_metadata"}
    return value


def _meta_item(
    context: ImportContext,
    raw: dict[str, Any],
    timestamp: int,
    text: str,
    media_entries: list[tuple[str, str]],
    url: str,
    card: LinkCard | None,
    limit: str,
    near: str,
) -> ImportItem | None:
    account = context.account
    published = normalize_time(datetime.fromtimestamp(timestamp, tz=UTC))
    if published >= normalize_time(limit):
        context.report.skipped += 1
        return None
    if not text.strip() and not media_entries and card is None:
        context.report.skipped += 1
        return None
    digest = hashlib.sha256(
        "\n".join([text, *(uri for uri, _ in media_entries)]).encode("utf-8")
    ).hexdigest()[:12]
    native_id = f"export-{timestamp}-{digest}"
    media_files: list[tuple[str | None, Media]] = []
    for uri, _description in media_entries:
        kind: MediaKind = "image" if _is_image(uri) else "video"
        member = context.export.resolve(uri, near)
        if member is None and kind == "video":
            member = ""
        # Meta's exports have no alt texts: the accessibility report lists these images.
        media_files.append((member, Media(kind=kind, url="" if kind == "image" else url)))
    post = Post(
        id=post_id(account.platform, account.key, native_id),
        platform=account.platform,
        account=account.key,
        native_id=native_id,
        url=url,
        published=published,
        text_html=linkify_text(text),
        media=tuple(m for _, m in media_files),
        card=card,
        hashtags=tuple(dict.fromkeys(_HASHTAG.findall(text))),
        extra={IMPORTED_FROM: f"{account.platform}-export"},
    )
    return ImportItem(post, raw, media_files)


READERS: dict[str, Reader] = {
    "x": read_x_archive,
    "facebook": read_facebook_export,
    "instagram": read_instagram_export,
}
