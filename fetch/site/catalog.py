"""The build's memory between runs: what every post file held, and what it became.

A post file in the archive is read again only when its size or modification time changed (and
counts as changed only when its SHA-256 did: a fresh ``git clone`` touches every file but
changes none). For each published post the catalog keeps what the pages around it need: where
it is listed (account, platform, month, hashtags), its thread, its media, and its teaser, the
HTML a listing shows. So an hourly run reads the handful of new post files, renders their pages
and those of their thread, and rebuilds the listings from stored teasers, without reading the
other tens of thousands of posts.

The catalog is three JSON files in ``build/state/``: ``catalog.json`` (the post files' sizes and
hashes, the site's files and their digests, the frames), ``entries.json`` (what each post
became) and ``teasers.json`` (its teaser and index line). A run with nothing new reads only the
first; the others are read when posts changed. Nothing in them is secret or a citizen's (they
hold the city's published posts' teasers), and a lost or foreign catalog only costs a full
build. Its ``key`` names the code, the config and the theme files it was made with; any change
to them starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..model import Post
from .render import Listed

CATALOG_VERSION = 3
CATALOG_FILE = "catalog.json"
ENTRIES_FILE = "entries.json"
TEASERS_FILE = "teasers.json"


@dataclass
class Entry:
    """One published post, as the catalog remembers it."""

    id: str
    file: str  # relative to the archive's posts/ folder
    account: str
    platform: str
    native_id: str
    published: str
    reply_to: str | None
    url: str  # its page, relative to the site root
    month: tuple[int, int]
    tags: list[str]  # as the post spells them, in order
    tag_slugs: list[str]
    media: list[str]  # the variant files its pages show
    alt_gap: list[Any] | None = None  # reports.AltTextGap's fields when images lack a text
    env: list[Any] = field(default_factory=list)  # what else its teaser depends on
    teaser: str = ""
    day: str = ""
    line: str = ""

    def listed(self) -> Listed:
        return Listed(
            id=self.id,
            account=self.account,
            platform=self.platform,
            month=(self.month[0], self.month[1]),
            tag_slugs=tuple(self.tag_slugs),
            teaser=self.teaser,
            day=self.day,
            line=self.line,
        )


@dataclass
class FileState:
    size: int
    mtime_ns: int
    sha: str
    post_id: str | None  # None: not published (taken down)


@dataclass
class Catalog:
    key: str = ""
    files: dict[str, FileState] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    manifest: dict[str, str] = field(default_factory=dict)  # site file -> digest of its content
    frames: dict[str, list[str]] = field(default_factory=dict)
    search: dict[str, str] = field(default_factory=dict)  # search bundle -> digest of its pages
    # What a run with nothing new needs of the entries: published posts per account (the
    # status page) and the media files the pages show.
    counts: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    # The entries (ENTRIES_FILE) and their teasers and index lines (TEASERS_FILE, three
    # quarters of the bytes) are kept in files of their own and read only when posts changed:
    # a run with nothing new reads neither them nor their 250 MB at 100,000 posts.
    entries_loaded: bool = True
    teasers_loaded: bool = True
    path: Path | None = None  # where it was read from: the other two files are beside it
    # written with the entries and into the catalog: entries of another run are never mixed
    # with this catalog's files (a run stopped between the two writes)
    generation: str = ""

    @classmethod
    def load(cls, path: Path, key: str) -> Catalog:
        """The stored catalog (``path`` is its CATALOG_FILE) when it was made with ``key``; else
        an empty one. Its entries and teasers are read later, when needed (load_entries)."""
        data = _read_keyed(path, key)
        try:
            if data is None or not data["generation"]:
                return cls(key=key)
            return cls(
                key=key,
                files={name: FileState(*value) for name, value in data["files"].items()},
                manifest=dict(data["manifest"]),
                frames=dict(data["frames"]),
                search=dict(data["search"]),
                counts=dict(data["counts"]),
                media_files=int(data["media_files"]),
                entries_loaded=False,
                teasers_loaded=False,
                path=path,
                generation=str(data["generation"]),
            )
        except (ValueError, KeyError, TypeError):
            return cls(key=key)

    def load_entries(self) -> bool:
        """Read the entries (ENTRIES_FILE beside the catalog). False when they are missing or
        were not written with this catalog: the build then starts afresh."""
        if self.entries_loaded:
            return True
        assert self.path is not None
        data = _read_keyed(self.path.with_name(ENTRIES_FILE), self.key)
        try:
            if data is None or data["generation"] != self.generation:
                return False
            self.entries = {
                post_id: Entry(**{**value, "month": tuple(value["month"])})
                for post_id, value in data["entries"].items()
            }
        except (ValueError, KeyError, TypeError):
            return False
        self.entries_loaded = True
        return True

    def load_teasers(self) -> None:
        """Give the entries their teasers and lines (TEASERS_FILE beside the catalog). One
        missing there (a run that stopped between the files) stays empty, and the build makes
        it again."""
        if self.teasers_loaded:
            return
        self.teasers_loaded = True
        assert self.path is not None and self.entries_loaded
        data = _read_keyed(self.path.with_name(TEASERS_FILE), self.key)
        try:
            stored = data["teasers"] if data is not None else {}
            for post_id, entry in self.entries.items():
                teaser, line = stored.get(post_id) or ("", "")
                entry.teaser, entry.line = str(teaser), str(line)
        except (KeyError, TypeError, ValueError):
            for entry in self.entries.values():
                entry.teaser = entry.line = ""

    def save(self, path: Path) -> None:
        """Write the catalog to ``path`` (its CATALOG_FILE) and, when they were read or made
        in this run, the entries and teasers beside it (else those files are still right: no
        post changed). The catalog is written last: it names the entries it belongs to."""
        head: list[tuple[str, Any]] = [("version", CATALOG_VERSION), ("key", self.key)]
        if self.entries_loaded:
            if self.teasers_loaded:
                teasers = {post_id: [e.teaser, e.line] for post_id, e in self.entries.items()}
                _write_parts(path.with_name(TEASERS_FILE), [*head, ("teasers", teasers)])
            self.generation = uuid.uuid4().hex
            # vars(), not asdict(): an entry holds plain values only, and asdict's deep copy
            # of 100,000 entries takes seconds
            entries = {
                post_id: {k: v for k, v in vars(entry).items() if k not in _TEASER_FIELDS}
                for post_id, entry in self.entries.items()
            }
            _write_parts(
                path.with_name(ENTRIES_FILE),
                [*head, ("generation", self.generation), ("entries", entries)],
            )
            self.counts = dict(Counter(entry.account for entry in self.entries.values()))
            self.media_files = len({m for entry in self.entries.values() for m in entry.media})
        files = {name: [s.size, s.mtime_ns, s.sha, s.post_id] for name, s in self.files.items()}
        parts: list[tuple[str, Any]] = [
            *head,  # version and key first: a reader of another key stops after 200 bytes
            ("generation", self.generation),
            ("counts", self.counts),
            ("media_files", self.media_files),
            ("files", files),
            ("manifest", self.manifest),
            ("frames", self.frames),
            ("search", self.search),
        ]
        _write_parts(path, parts)
        self.path = path


def _read_keyed(path: Path, key: str) -> dict[str, Any] | None:
    """One of the catalog's files when it was written by this version with ``key``. A file of
    another key (new code, new config) is dropped after its first 200 bytes, without parsing
    its hundreds of megabytes: save() writes version and key first."""
    try:
        with path.open("rb") as stream:
            head = stream.read(200)
        if f'"key":"{key}"'.encode() not in head:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != CATALOG_VERSION:
        return None
    return data if data.get("key") == key else None


_TEASER_FIELDS = frozenset({"teaser", "line"})


def _write_parts(path: Path, parts: list[tuple[str, Any]]) -> None:
    """A JSON object of ``parts`` (name, value), in their order, replacing ``path`` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".catalog-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write("{")
            for number, (name, value) in enumerate(parts):
                stream.write(("," if number else "") + json.dumps(name) + ":")
                _write_json(stream, value)
            stream.write("}")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_json(stream: TextIO, value: Any, chunk: int = 2_000) -> None:
    """``value`` as compact JSON; a large mapping in slices of ``chunk`` items. json.dump() to a
    stream runs the pure-Python encoder (ten times slower than json.dumps' C encoder), and one
    json.dumps() of 100,000 entries would hold a 300 MB string."""
    if not isinstance(value, dict) or len(value) <= chunk:
        stream.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        return
    items = list(value.items())
    stream.write("{")
    for start in range(0, len(items), chunk):
        part = json.dumps(
            dict(items[start : start + chunk]), ensure_ascii=False, separators=(",", ":")
        )
        stream.write(("," if start else "") + part[1:-1])
    stream.write("}")


@dataclass
class Scan:
    """What changed in the archive's post files since the catalog was written."""

    files: dict[str, FileState]
    changed: dict[str, bytes]  # new or changed files and their content
    removed: list[str]


def scan_posts(posts_dir: Path, known: dict[str, FileState]) -> Scan:
    """Stat every post file; read and hash only those whose size or time changed."""
    files: dict[str, FileState] = {}
    changed: dict[str, bytes] = {}
    for relative, info in _post_files(posts_dir):
        old = known.get(relative)
        if old is not None and old.size == info.st_size and old.mtime_ns == info.st_mtime_ns:
            files[relative] = old
            continue
        data = (posts_dir / relative).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if old is not None and old.sha == sha:
            files[relative] = FileState(info.st_size, info.st_mtime_ns, sha, old.post_id)
            continue
        files[relative] = FileState(info.st_size, info.st_mtime_ns, sha, None)
        changed[relative] = data
    removed = [name for name in known if name not in files]
    return Scan(files=files, changed=changed, removed=removed)


def _post_files(posts_dir: Path) -> Iterator[tuple[str, os.stat_result]]:
    if not posts_dir.is_dir():
        return
    for folder in sorted(os.scandir(posts_dir), key=lambda e: e.name):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        for item in sorted(os.scandir(folder.path), key=lambda e: e.name):
            if item.name.endswith(".json") and item.is_file():
                yield f"{folder.name}/{item.name}", item.stat()


def media_of(post: Post) -> list[str]:
    items = list(post.media)
    if post.card and post.card.image:
        items.append(post.card.image)
    return [variant.path for item in items for variant in item.variants]
