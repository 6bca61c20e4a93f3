"""The fetch run: every configured account, each inside its own error boundary.

Stages, per account:

1. resolve secrets from the environment (a missing variable fails this account only);
2. ``source.fetch`` pages through what is new (``fetch.sources``);
3. media are downloaded and re-encoded (``fetch.media``);
4. posts and raw payloads are written atomically (``fetch.archive``);
5. only when the whole pass succeeded, the source's cursors are saved, so a run that stops
   half-way re-reads the same posts next time instead of skipping any.

After a fully successful pass, the posts of a recent window are re-checked on the platform
(``fetch.lifecycle``): a post the platform positively reports deleted leaves the archive for
``deleted/``; posts the city withdrew by hand (``takedown:``) are neither updated nor
re-downloaded.

One account failing (timeout, 429, 5xx, malformed JSON, expired token) is logged, counted and
reported; the run goes on with the others. ``status.json`` in the archive records the last
attempt and last success of each account for the status page and the run summary; an account
without a success for more than ``stale_after_hours`` is reported stale. ``status.json`` is the
one file a run rewrites even when nothing changed (it holds the time of the attempt): "a second
run over the same data changes zero bytes" holds for every other file.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import lifecycle
from .archive import Archive, dumps, write_atomic
from .config import Config
from .errors import (
    AushangError,
    AuthError,
    NotFoundError,
    PayloadError,
    RateLimitError,
    SourceError,
    TransientError,
)
from .http import Http, make_client
from .media import MediaStore, has_pending_media, retry_pending
from .sources import registry
from .sources.base import AccountConfig, FetchContext, Source

log = logging.getLogger("aushang.fetch")

STATUS_FILE = "status.json"
PROGRESS_EVERY = 50  # posts between two progress lines of one account
MEDIA_PROGRESS_EVERY = 25  # downloaded media between two progress lines


@dataclass
class AccountReport:
    key: str
    platform: str
    status: str = "ok"  # ok | partial | failed | disabled
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    requests: int = 0  # of the listing and media; re-checks are counted in ``checked``
    media_downloaded: int = 0
    media_rejected: int = 0
    error: str = ""
    error_kind: str = ""  # auth | rate_limit | transient | payload | not_found | refused | error
    seconds: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)  # source counters, e.g. X posts read
    checked: int = 0  # archived posts re-checked on the platform
    deleted: int = 0  # ... of which the platform positively reported deleted
    withheld: int = 0  # posts of the takedown list the listing returned (not updated)
    stale: bool = False  # no successful fetch for more than stale_after_hours
    last_success: str = ""


@dataclass
class RunReport:
    accounts: list[AccountReport] = field(default_factory=list)

    @property
    def failed(self) -> list[AccountReport]:
        return [a for a in self.accounts if a.status in ("failed", "partial")]

    @property
    def stale(self) -> list[AccountReport]:
        return [a for a in self.accounts if a.stale]

    @property
    def exit_code(self) -> int:
        """0: all accounts updated; 1: some accounts failed, were partial or are stale (the
        others were still updated)."""
        return 1 if self.failed or self.stale else 0

    def summary_lines(self) -> list[str]:
        lines = []
        for a in self.accounts:
            line = (
                f"{a.key:<16} {a.platform:<10} {a.status:<8} new {a.new:>4}  updated {a.updated:>3}"
                f"  unchanged {a.unchanged:>4}  requests {a.requests:>3}  {a.seconds:5.1f} s"
            )
            if a.checked or a.deleted:
                line += f"  re-checked {a.checked}  deleted {a.deleted}"
            if a.withheld:
                line += f"  withheld {a.withheld}"
            if a.extra:
                line += "  " + "  ".join(f"{k} {v}" for k, v in sorted(a.extra.items()))
            if a.stale:
                since = a.last_success or "never"
                line += f"\n{'':<16} STALE: no successful fetch since {since}"
            if a.error:
                line += f"\n{'':<16} {a.error}"
            lines.append(line)
        return lines

    def markdown(self) -> str:
        """The run as a Markdown table, for ``$GITHUB_STEP_SUMMARY`` in GitHub Actions."""
        rows = [
            "## Aushang: Abruf",
            "",
            "| account | platform | status | new | updated | deleted | requests | error |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for a in self.accounts:
            status = a.status + (" (stale)" if a.stale else "")
            rows.append(
                f"| {_cell(a.key)} | {_cell(a.platform)} | {_cell(status)} | {a.new} "
                f"| {a.updated} | {a.deleted} | {a.requests} | {_cell(a.error)} |"
            )
        problems = len({a.key for a in self.failed + self.stale})
        rows += ["", f"{len(self.accounts)} account(s), {problems} with problems.", ""]
        return "\n".join(rows)


def _cell(text: str) -> str:
    """Table-safe: one line, pipes escaped, Markdown and HTML not interpreted."""
    flat = " ".join(str(text).split())
    for char in "\\`*_[]<>|":
        flat = flat.replace(char, "\\" + char)
    return flat


def write_step_summary(report: RunReport, path: str | os.PathLike[str]) -> None:
    """Append the run's Markdown table to the file GitHub Actions shows on the run's page."""
    with open(Path(path), "a", encoding="utf-8") as handle:
        handle.write(report.markdown() + "\n")


def run_fetch(
    config: Config,
    *,
    http: Http | None = None,
    only: set[str] | None = None,
    environ: dict[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], datetime] = lifecycle.utc_now,
) -> RunReport:
    """Fetch every configured account (or those in ``only``) into the archive.

    ``sleep`` replaces ``time.sleep`` for the waits of retries and rate limits, and ``clock``
    the current time (the re-check window, stale accounts, status.json), so tests neither wait
    nor depend on the date.
    """
    archive = Archive(config.archive_dir)
    environ = dict(os.environ) if environ is None else environ
    own_http = http is None
    if http is None:
        import httpx

        http = Http(
            make_client(
                httpx.Timeout(config.fetch.timeout, connect=min(10.0, config.fetch.timeout))
            ),
            retries=config.fetch.retries,
            max_wait=config.fetch.max_wait,
            sleep=sleep or time.sleep,
        )
    elif sleep is not None:
        http.sleep = sleep
    report = RunReport()
    audit = lifecycle.AuditLog(
        archive.root / lifecycle.AUDIT_FILE,
        retention_days=config.audit_retention_days,
        clock=clock,
    )
    try:
        with archive.lock():
            lifecycle.remove_stale_temp_files(archive.root)
            lifecycle.audit_takedowns(archive, config.takedown, audit)
            status = _load_status(archive)
            for account in config.accounts:
                if only and account.key not in only:
                    continue
                if not account.options.get("enabled", True):
                    report.accounts.append(
                        AccountReport(account.key, account.platform, status="disabled")
                    )
                    continue
                result = fetch_account(
                    config, archive, http, account, environ, audit=audit, clock=clock
                )
                report.accounts.append(result)
                _record_status(status, result, clock(), config.stale_after_hours)
                # After every account, so a run stopped later still shows what it did.
                write_atomic(archive.root / STATUS_FILE, dumps(status))
            write_atomic(archive.root / STATUS_FILE, dumps(status))
    finally:
        if own_http:
            http.client.close()
    failed = {a.key for a in report.failed + report.stale}
    log.info(
        "fetch done: %d account(s), %d new, %d updated, %d deleted; problems: %s",
        len(report.accounts),
        sum(a.new for a in report.accounts),
        sum(a.updated for a in report.accounts),
        sum(a.deleted for a in report.accounts),
        ", ".join(sorted(failed)) or "none",
    )
    return report


def fetch_account(
    config: Config,
    archive: Archive,
    http: Http,
    account: AccountConfig,
    environ: dict[str, str],
    *,
    audit: lifecycle.AuditLog | None = None,
    clock: Callable[[], datetime] = lifecycle.utc_now,
) -> AccountReport:
    started = time.monotonic()
    requests_before = http.requests
    report = AccountReport(account.key, account.platform)
    context: FetchContext | None = None
    recheck_requests = 0  # counted as "re-checked", not as requests of the listing
    source = registry.get(account.platform)
    assert source is not None  # the config was validated against the registry
    try:
        account = _with_secrets(account, environ, http)
        stored = archive.load_state(account.key)
        cursor: dict[str, Any] = dict(stored.get("cursor") or {})
        context = FetchContext(
            account=account,
            http=http,
            state=cursor,
            log=log,
            max_pages=config.fetch.max_pages,
        )
        media = MediaStore(archive.media_dir, http, account=account.key)
        pending = _retry_pending_media(
            archive,
            account.key,
            media,
            stored.get("media_pending", []),
            config.takedown,
        )
        seen: set[str] = set()
        media_logged = 0
        for item in source.fetch(context):
            seen.add(item.post.native_id)
            if lifecycle.is_taken_down(item.post, config.takedown):
                # Withdrawn by the city: not updated, no media downloaded, never re-published.
                report.withheld += 1
                continue
            previous = archive.load_post(account.key, item.post.native_id)
            post = media.rehost_post(item.post, previous)
            changed = archive.save_post(post, item.raw)
            if has_pending_media(post):
                pending.add(post.native_id)
            else:
                pending.discard(post.native_id)
            if previous is None:
                report.new += 1
            elif changed:
                report.updated += 1
            else:
                report.unchanged += 1
            downloaded = media.stats.downloaded
            if len(seen) % PROGRESS_EVERY == 0 or downloaded >= media_logged + MEDIA_PROGRESS_EVERY:
                media_logged = downloaded
                log.info(
                    "%s: %d posts read so far (%d new, %d updated), %d media downloaded",
                    account.key,
                    len(seen),
                    report.new,
                    report.updated,
                    downloaded,
                )
        new_state: dict[str, Any] = {"cursor": cursor}
        if pending:
            new_state["media_pending"] = sorted(pending)
        # The listing succeeded, so the account is reachable and its token works: only now is
        # a "not found" from a post's own endpoint evidence that the city deleted it.
        before_recheck = http.requests
        recheck = _recheck(config, archive, source, context, seen, stored, audit, clock())
        report.updated += _store_refreshed(config, archive, context, media)
        recheck_requests = http.requests - before_recheck
        report.checked, report.deleted = recheck.checked, len(recheck.deleted)
        if recheck.cursor:
            new_state[lifecycle.RECHECK_CURSOR] = recheck.cursor
        archive.save_state(account.key, new_state)
    except SourceError as exc:
        report.status = "partial" if (report.new or report.updated) else "failed"
        report.error = _explain(exc, account)
        report.error_kind = _error_kind(exc)
        log.error("%s (%s): %s", account.key, account.platform, report.error)
    except AushangError as exc:
        report.status = "failed"
        report.error = str(exc)
        report.error_kind = "error"
        log.error("%s (%s): %s", account.key, account.platform, report.error)
    else:
        report.media_downloaded = media.stats.downloaded
        report.media_rejected = media.stats.rejected
        log.info(
            "%s: %d new, %d updated, %d unchanged, %d media downloaded, %d re-checked, %d deleted",
            account.key,
            report.new,
            report.updated,
            report.unchanged,
            report.media_downloaded,
            report.checked,
            report.deleted,
        )
    if context is not None:
        report.extra = dict(context.counters)  # counted even when the pass failed half-way
    report.requests = http.requests - requests_before - recheck_requests
    report.seconds = time.monotonic() - started
    return report


def _with_secrets(account: AccountConfig, environ: dict[str, str], http: Http) -> AccountConfig:
    resolved: dict[str, str] = {}
    for name, env_name in account.secrets.items():
        value = environ.get(env_name, "").strip()
        if not value:
            raise AuthError(
                f"environment variable {env_name} (the {name} of this account) is not set",
                account=account.key,
            )
        http.add_secret(value)
        resolved[name] = value
    from dataclasses import replace

    return replace(account, secrets=resolved)


def _recheck(
    config: Config,
    archive: Archive,
    source: Source,
    context: FetchContext,
    seen: set[str],
    stored: dict[str, Any],
    audit: lifecycle.AuditLog | None,
    now: datetime,
) -> lifecycle.RecheckResult:
    """Re-check the recent window; move what the platform reports deleted to ``deleted/``."""
    key = context.account.key
    if config.fetch.recheck_days <= 0 or config.fetch.recheck_limit <= 0:
        return lifecycle.RecheckResult()
    if type(source).check_exists is Source.check_exists:
        return lifecycle.RecheckResult()  # the platform offers no way to ask: nothing to do
    posts = (
        [
            post
            for post in archive.iter_recent_posts(
                key, now - timedelta(days=config.fetch.recheck_days)
            )
            if not lifecycle.is_taken_down(post, config.takedown) and post.native_id not in seen
        ]
        if (archive.root / "posts" / key).is_dir()
        else []
    )
    result = lifecycle.recheck_window(
        posts,
        lambda post: source.check_exists(context, post),
        now=now,
        days=config.fetch.recheck_days,
        limit=config.fetch.recheck_limit,
        cursor=stored.get(lifecycle.RECHECK_CURSOR),
        seen=seen,
    )
    for post in result.deleted:
        reason = f"the platform answers 'not found' for the post ({context.account.platform})"
        if audit is not None:
            audit.append(
                [lifecycle.AuditEntry.for_post(post, action="deleted", reason=reason, at=now)]
            )
        lifecycle.move_to_deleted(archive, post, reason=reason, at=now)
        log.info("%s: %s was deleted on the platform; it leaves the site", key, post.id)
    if result.checked:
        log.info(
            "%s: re-checked %d recent post(s): %d exist, %d deleted, %d unknown",
            key,
            result.checked,
            result.exists,
            len(result.deleted),
            result.unknown,
        )
    return result


def _store_refreshed(
    config: Config, archive: Archive, context: FetchContext, media: MediaStore
) -> int:
    """Store the re-checked posts whose content changed (edits); return how many."""
    updated = 0
    for item in context.refreshed:
        if lifecycle.is_taken_down(item.post, config.takedown):
            continue
        previous = archive.load_post(item.post.account, item.post.native_id)
        if previous is None:
            continue  # only posts we hold are re-checked; one deleted meanwhile stays deleted
        post = media.rehost_post(item.post, previous)
        # Only a changed post is written: counters in the raw payload (favourites) alone must
        # not rewrite files every hour.
        if post != previous:
            archive.save_post(post, item.raw)
            updated += 1
            log.info("%s: %s was edited; updated", item.post.account, item.post.id)
    context.refreshed.clear()
    return updated


def _retry_pending_media(
    archive: Archive,
    account: str,
    media: MediaStore,
    native_ids: list[str],
    takedown: tuple[str, ...] = (),
) -> set[str]:
    """Retry the downloads that failed for a passing reason; return the ids still pending."""
    still: set[str] = set()
    for native_id in native_ids:
        post = archive.load_post(account, native_id)
        if post is None or not has_pending_media(post):
            continue
        if lifecycle.is_taken_down(post, takedown):
            continue
        raw_path = archive.raw_path(account, native_id)
        raw = json.loads(raw_path.read_bytes()) if raw_path.exists() else {}
        post = media.rehost_post(retry_pending(post), None)
        archive.save_post(post, raw)
        if has_pending_media(post):
            still.add(native_id)
    return still


def _explain(exc: SourceError, account: AccountConfig) -> str:
    text = str(exc)
    if isinstance(exc, AuthError):
        return (
            f"{text}. The instance refused our credentials: create or renew the access token "
            f"(see docs/plattformen/{account.platform}.md) and put it in the environment variable "
            "named in the config."
        )
    return text


def _load_status(archive: Archive) -> dict[str, Any]:
    try:
        data = json.loads((archive.root / STATUS_FILE).read_bytes())
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _error_kind(exc: SourceError) -> str:
    kinds: tuple[tuple[type[SourceError], str], ...] = (
        (AuthError, "auth"),
        (RateLimitError, "rate_limit"),
        (TransientError, "transient"),
        (PayloadError, "payload"),
        (NotFoundError, "not_found"),
    )
    return next((kind for cls, kind in kinds if isinstance(exc, cls)), "refused")


def _record_status(
    status: dict[str, Any], result: AccountReport, moment: datetime, stale_after_hours: int
) -> None:
    """Note this attempt in status.json and mark ``result`` stale if its last success is old."""
    now = lifecycle.iso(moment)
    entry = status.setdefault(result.key, {})
    entry.setdefault("first_attempt", now)
    entry.update(platform=result.platform, last_attempt=now, last_status=result.status)
    if result.status == "ok":
        entry["last_success"] = now
        entry.pop("last_error", None)
        entry.pop("last_error_kind", None)
    else:
        entry["last_error"] = result.error
        entry["last_error_kind"] = result.error_kind or "error"
    result.last_success = str(entry.get("last_success") or "")
    result.stale = is_stale(entry, moment, stale_after_hours)


def is_stale(entry: dict[str, Any], now: datetime, stale_after_hours: int) -> bool:
    """No successful fetch for more than ``stale_after_hours`` (counted from the first attempt
    for an account that never succeeded)."""
    since = entry.get("last_success") or entry.get("first_attempt")
    if not since:
        return False
    try:
        moment = datetime.fromisoformat(str(since))
    except ValueError:
        return True
    return now - moment > timedelta(hours=stale_after_hours)


def report_as_dict(report: RunReport) -> dict[str, Any]:
    return {"accounts": [asdict(a) for a in report.accounts]}
