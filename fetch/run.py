"""The fetch run: every configured account, each inside its own error boundary.

Stages, per account:

1. resolve secrets from the environment (a missing variable fails this account only);
2. ``source.fetch`` pages through what is new (``fetch.sources``);
3. media are downloaded and re-encoded (``fetch.media``);
4. posts and raw payloads are written atomically (``fetch.archive``);
5. only when the whole pass succeeded, the source's cursors are saved, so a run that stops
   half-way re-reads the same posts next time instead of skipping any.

One account failing (timeout, 429, 5xx, malformed JSON, expired token) is logged, counted and
reported; the run goes on with the others. ``status.json`` in the archive records the last
attempt and last success of each account for the status page and the run summary.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .archive import Archive, dumps, write_atomic
from .config import Config
from .errors import AushangError, AuthError, SourceError
from .http import Http, make_client
from .media import MediaStore, has_pending_media, retry_pending
from .sources import registry
from .sources.base import AccountConfig, FetchContext

log = logging.getLogger("aushang.fetch")

STATUS_FILE = "status.json"


@dataclass
class AccountReport:
    key: str
    platform: str
    status: str = "ok"  # ok | partial | failed | disabled
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    requests: int = 0
    media_downloaded: int = 0
    media_rejected: int = 0
    error: str = ""
    seconds: float = 0.0


@dataclass
class RunReport:
    accounts: list[AccountReport] = field(default_factory=list)

    @property
    def failed(self) -> list[AccountReport]:
        return [a for a in self.accounts if a.status in ("failed", "partial")]

    @property
    def exit_code(self) -> int:
        """0: all accounts updated; 1: some accounts failed (the others were still updated)."""
        return 1 if self.failed else 0

    def summary_lines(self) -> list[str]:
        lines = []
        for a in self.accounts:
            line = (
                f"{a.key:<16} {a.platform:<10} {a.status:<8} new {a.new:>4}  updated {a.updated:>3}"
                f"  unchanged {a.unchanged:>4}  requests {a.requests:>3}  {a.seconds:5.1f} s"
            )
            if a.error:
                line += f"\n{'':<16} {a.error}"
            lines.append(line)
        return lines


def run_fetch(
    config: Config,
    *,
    http: Http | None = None,
    only: set[str] | None = None,
    environ: dict[str, str] | None = None,
) -> RunReport:
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
        )
    report = RunReport()
    try:
        with archive.lock():
            status = _load_status(archive)
            for account in config.accounts:
                if only and account.key not in only:
                    continue
                if not account.options.get("enabled", True):
                    report.accounts.append(
                        AccountReport(account.key, account.platform, status="disabled")
                    )
                    continue
                result = fetch_account(config, archive, http, account, environ)
                report.accounts.append(result)
                _record_status(status, result)
            write_atomic(archive.root / STATUS_FILE, dumps(status))
    finally:
        if own_http:
            http.client.close()
    return report


def fetch_account(
    config: Config,
    archive: Archive,
    http: Http,
    account: AccountConfig,
    environ: dict[str, str],
) -> AccountReport:
    started = time.monotonic()
    requests_before = http.requests
    report = AccountReport(account.key, account.platform)
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
        pending = _retry_pending_media(archive, account.key, media, stored.get("media_pending", []))
        for item in source.fetch(context):
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
        new_state: dict[str, Any] = {"cursor": cursor}
        if pending:
            new_state["media_pending"] = sorted(pending)
        archive.save_state(account.key, new_state)
    except SourceError as exc:
        report.status = "partial" if (report.new or report.updated) else "failed"
        report.error = _explain(exc, account)
        log.error("%s (%s): %s", account.key, account.platform, report.error)
    except AushangError as exc:
        report.status = "failed"
        report.error = str(exc)
        log.error("%s (%s): %s", account.key, account.platform, report.error)
    else:
        report.media_downloaded = media.stats.downloaded
        report.media_rejected = media.stats.rejected
    report.requests = http.requests - requests_before
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


def _retry_pending_media(
    archive: Archive, account: str, media: MediaStore, native_ids: list[str]
) -> set[str]:
    """Retry the downloads that failed for a passing reason; return the ids still pending."""
    still: set[str] = set()
    for native_id in native_ids:
        post = archive.load_post(account, native_id)
        if post is None or not has_pending_media(post):
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


def _record_status(status: dict[str, Any], result: AccountReport) -> None:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    entry = status.setdefault(result.key, {})
    entry.update(platform=result.platform, last_attempt=now, last_status=result.status)
    if result.status == "ok":
        entry["last_success"] = now
        entry.pop("last_error", None)
    else:
        entry["last_error"] = result.error


def report_as_dict(report: RunReport) -> dict[str, Any]:
    return {"accounts": [asdict(a) for a in report.accounts]}
