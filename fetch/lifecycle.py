"""Keeping the archive true over years of hourly runs: deletions, takedowns, audit, drop guard.

A post leaves the site in three ways, and each leaves a trace the web team can follow:

- **Deleted by the city on the platform.** Only positive evidence counts: the post's own
  endpoint answers "not found" (``Source.check_exists`` returns ``False``). A post missing from
  a listing, an empty page, a timeout, a 5xx or a rate limit never is. Each run re-checks the
  posts of a recent window (``fetch.recheck_days``), at most ``fetch.recheck_limit`` per account,
  rotating through the window with a cursor in the account's state, so a run stays cheap. A
  deleted post moves with its raw payload to ``deleted/<account>/<slug>.json`` (with the reason
  and the time), so a mistaken deletion can be undone with ``restore_deleted``.
- **Withdrawn by hand** (``takedown:`` in the config): the build leaves it out and the fetch
  neither updates nor re-downloads it, whatever the platform says. The archive keeps it, so
  removing the entry from the list brings it back.
- Either way a line goes to ``audit.log`` (JSON lines: when, what, why, the content hash; never
  the content). It lives in the archive, never under ``docs/`` or ``site/``; lines older than
  ``audit_retention_days`` are pruned whenever the log is written.

The drop guard: if the number of posts to publish falls by more than ``max_drop_percent``
against the previous build (a bug, a token that lost its scope, an instance answering 404 for
everything), ``check_publish_drop`` refuses the build before anything is written;
``aushang build --allow-drop`` overrides. Takedowns do not count as a drop: they are deliberate.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .archive import Archive, dumps, slug, write_atomic
from .clean.links import clean_url
from .errors import AushangError, SourceError
from .model import Post, Published
from .times import parse_time

log = logging.getLogger("aushang.lifecycle")

AUDIT_FILE = "audit.log"
DELETED_DIR = "deleted"
LAST_BUILD_FILE = "last-build.json"
RECHECK_CURSOR = "recheck_after"  # key in state/<account>.json
_TEMP_FILE = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")  # what write_atomic's mkstemp leaves


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def content_hash(post: Post) -> str:
    """The hash of the archived post as stored: identifies the content without keeping it."""
    return hashlib.sha256(dumps(post.to_dict())).hexdigest()


# -- takedown ----------------------------------------------------------------------------------
def _comparable_url(url: str) -> str:
    return clean_url(url.strip()).rstrip("/") if url.strip() else ""


def is_taken_down(post: Post, takedown: Iterable[str]) -> bool:
    """Whether the city withdrew this post by hand: by id, native id or original URL.

    A URL matches with or without tracking parameters and a trailing slash, as it was copied
    from the browser's address bar.
    """
    entries = [str(entry).strip() for entry in takedown if str(entry).strip()]
    if not entries:
        return False
    if post.id in entries or post.native_id in entries:
        return True
    own = _comparable_url(post.url) if post.url else ""
    return bool(own) and any("://" in entry and _comparable_url(entry) == own for entry in entries)


def audit_takedowns(archive: Archive, takedown: tuple[str, ...], audit: AuditLog) -> int:
    """Write one audit line for every archived post newly withheld by the takedown list."""
    if not takedown:
        return 0
    known = {entry.get("post") for entry in audit.entries() if entry.get("action") == "takedown"}
    fresh = [
        post
        for post in archive.iter_posts()
        if post.id not in known and is_taken_down(post, takedown)
    ]
    at = audit.clock()
    audit.append(
        AuditEntry.for_post(post, action="takedown", reason="takedown list in the config", at=at)
        for post in fresh
    )
    for post in fresh:
        log.info(
            "%s: withdrawn by the takedown list; it leaves the site at the next build", post.id
        )
    return len(fresh)


# -- the audit log ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditEntry:
    """One line of ``audit.log``: what left the site, when and why. Never the content."""

    at: str
    action: str  # deleted | takedown | restored
    post: str
    url: str
    reason: str
    sha256: str

    @classmethod
    def for_post(
        cls, post: Post, *, action: str, reason: str, at: datetime | None = None
    ) -> AuditEntry:
        return cls(
            at=iso(at or utc_now()),
            action=action,
            post=post.id,
            url=post.url,
            reason=reason,
            sha256=content_hash(post),
        )

    def to_dict(self) -> dict[str, str]:
        return {
            "at": self.at,
            "action": self.action,
            "post": self.post,
            "url": self.url,
            "reason": self.reason,
            "sha256": self.sha256,
        }


class AuditLog:
    """``archive/audit.log``: JSON lines, rewritten atomically, pruned to the retention period."""

    def __init__(
        self,
        path: Path,
        *,
        retention_days: int = 730,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.path = path
        self.retention_days = retention_days
        self.clock = clock

    def entries(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                data = json.loads(line)
                if isinstance(data, dict):
                    entries.append(data)
        return entries

    def append(self, new: Iterable[AuditEntry]) -> None:
        lines = [entry.to_dict() for entry in new]
        if not lines:
            return
        cutoff = self.clock() - timedelta(days=self.retention_days)
        kept = [entry for entry in self.entries() if not _older_than(entry.get("at"), cutoff)]
        content = "".join(
            json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n" for entry in kept + lines
        )
        write_atomic(self.path, content.encode("utf-8"))


def _older_than(value: Any, cutoff: datetime) -> bool:
    try:
        return parse_time(str(value)) < cutoff
    except ValueError:
        return False  # a line we cannot date is kept, not silently dropped


# -- deletions ----------------------------------------------------------------------------------
def deleted_path(archive: Archive, account: str, native_id: str) -> Path:
    return archive.root / DELETED_DIR / account / f"{slug(native_id)}.json"


def move_to_deleted(archive: Archive, post: Post, *, reason: str, at: datetime) -> Path:
    """Take a post out of the published archive, keeping it (and its raw payload) aside.

    The record is written before anything is removed, the raw file before the post: a run
    killed in between leaves the post published and the next run repeats the move, keeping the
    raw payload it already set aside.
    """
    target = deleted_path(archive, post.account, post.native_id)
    raw_path = archive.raw_path(post.account, post.native_id)
    raw: Any = None
    if raw_path.exists():
        raw = json.loads(raw_path.read_bytes())
    elif target.exists():
        raw = json.loads(target.read_bytes()).get("raw")
    record = {
        "deleted_at": iso(at),
        "reason": reason,
        "sha256": content_hash(post),
        "post": post.to_dict(),
        "raw": raw,
    }
    write_atomic(target, dumps(record))
    with contextlib.suppress(FileNotFoundError):
        raw_path.unlink()
    with contextlib.suppress(FileNotFoundError):
        archive.post_path(post.account, post.native_id).unlink()
    return target


def restore_deleted(archive: Archive, account: str, native_id: str, audit: AuditLog) -> Post:
    """Undo a deletion: put the post and its raw payload back where the site reads them."""
    source = deleted_path(archive, account, native_id)
    try:
        record = json.loads(source.read_bytes())
    except FileNotFoundError:
        raise AushangError(f"{source}: no deleted post {account}/{native_id} to restore") from None
    post = Post.from_dict(record["post"])
    archive.save_post(post, record.get("raw") or {})
    audit.append(
        [AuditEntry.for_post(post, action="restored", reason="restored by hand", at=audit.clock())]
    )
    source.unlink()
    return post


@dataclass
class RecheckResult:
    checked: int = 0
    exists: int = 0
    unknown: int = 0
    deleted: list[Post] = field(default_factory=list)
    cursor: str | None = None
    stopped: str = ""  # why the re-checks stopped early, if they did


def recheck_window(
    posts: list[Post],
    check: Callable[[Post], bool | None],
    *,
    now: datetime,
    days: int,
    limit: int,
    cursor: str | None,
    seen: set[str],
) -> RecheckResult:
    """Ask the platform about the posts of the last ``days``, at most ``limit`` of them.

    Returns the posts the platform positively reports gone. ``cursor`` is the id of the last
    post checked in the previous run: this run goes on after it and wraps around, so a window
    larger than ``limit`` is covered over several runs. ``seen`` holds the native ids the
    listing of this very run returned: those exist, whatever a single endpoint says.
    """
    result = RecheckResult(cursor=cursor)
    if days <= 0 or limit <= 0:
        return result
    since = now - timedelta(days=days)
    window = sorted((post for post in posts if _published(post) >= since), key=lambda post: post.id)
    if not window:
        return RecheckResult()
    start = 0
    if cursor:
        start = next((i for i, post in enumerate(window) if post.id > cursor), 0)
    order = window[start:] + window[:start]
    batch = order[:limit]
    for post in batch:
        try:
            exists = check(post)
        except SourceError as exc:
            result.stopped = str(exc)
            log.warning("%s: re-check stopped, will go on next run: %s", post.account, exc)
            break
        result.checked += 1
        result.cursor = post.id
        if exists is False and post.native_id not in seen:
            result.deleted.append(post)
        elif exists is None:
            result.unknown += 1
        else:
            result.exists += 1
    if len(window) <= limit and not result.stopped:
        result.cursor = None  # the whole window fitted: no cursor, no bytes changed next run
    return result


def _published(post: Post) -> datetime:
    try:
        return parse_time(post.published)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


# -- crash safety ---------------------------------------------------------------------------------
def remove_stale_temp_files(root: Path) -> int:
    """Remove the temporary files of a write that a killed run left behind.

    Only call while holding the archive lock: then no other writer can own them.
    """
    removed = 0
    if not root.is_dir():
        return 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != ".git"]
        for name in files:
            if _TEMP_FILE.match(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, name))
                    removed += 1
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted run", removed)
    return removed


# -- the drop guard -------------------------------------------------------------------------------
class PublishDropError(AushangError):
    """The build would publish far fewer posts than the last one: refused until confirmed."""


@dataclass(frozen=True)
class PublishCount:
    published: int
    withheld: int  # archived but taken down by hand: deliberate, not a drop
    accounts: dict[str, int]

    @property
    def total(self) -> int:
        return self.published + self.withheld

    def to_dict(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "withheld": self.withheld,
            "accounts": dict(sorted(self.accounts.items())),
        }


def count_archived(archive_dir: Path) -> int:
    folder = archive_dir / "posts"
    return sum(1 for _ in folder.glob("*/*.json")) if folder.is_dir() else 0


def load_last_build(archive_dir: Path) -> PublishCount | None:
    try:
        data = json.loads((archive_dir / LAST_BUILD_FILE).read_bytes())
        return PublishCount(
            published=int(data["published"]),
            withheld=int(data.get("withheld", 0)),
            accounts={str(k): int(v) for k, v in (data.get("accounts") or {}).items()},
        )
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return None


def check_publish_drop(
    archive_dir: Path,
    posts: Sequence[Published],
    *,
    max_drop_percent: float,
    allow_drop: bool = False,
) -> PublishCount:
    """Count what this build publishes; refuse when it fell sharply since the last build."""
    current = PublishCount(
        published=len(posts),
        withheld=max(0, count_archived(archive_dir) - len(posts)),
        accounts=dict(Counter(post.account for post in posts)),
    )
    previous = load_last_build(archive_dir)
    if previous is None or previous.total == 0 or allow_drop:
        return current
    drop = (previous.total - current.total) / previous.total * 100
    if drop <= max_drop_percent:
        return current
    fallen = [
        f"{key} {before} -> {current.accounts.get(key, 0)}"
        for key, before in sorted(previous.accounts.items())
        if current.accounts.get(key, 0) < before
    ]
    raise PublishDropError(
        f"refusing to build: {current.published} posts to publish, {previous.published} at the "
        f"last build ({drop:.0f} % fewer, more than max_drop_percent {max_drop_percent:g} %). "
        f"Accounts: {', '.join(fallen) or 'none'}. A bug or a platform answering 'not found' "
        "for everything looks like this; check the fetch log and archive/audit.log "
        "(deleted posts wait in archive/deleted/). If the city really removed them, build "
        "once with `aushang build --allow-drop` (GitHub Actions: run the mirror workflow by "
        "hand with allow_drop)."
    )


def record_build(archive_dir: Path, count: PublishCount) -> None:
    """Remember what this build published, for the next build's drop check."""
    write_atomic(archive_dir / LAST_BUILD_FILE, dumps(count.to_dict()))


def iter_deleted(archive: Archive) -> Iterator[dict[str, Any]]:
    folder = archive.root / DELETED_DIR
    for path in sorted(folder.glob("*/*.json")) if folder.is_dir() else []:
        with contextlib.suppress(ValueError):
            yield json.loads(path.read_bytes())
