"""Years of hourly runs against flaky platforms: each rule against a loopback server that
misbehaves on purpose (the demo server's fault injection), and `aushang fetch` killed mid-run."""

from __future__ import annotations

import email.utils
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fetch.archive import Archive
from fetch.cli import main
from fetch.demo.server import DemoServer, Request, Response
from fetch.run import run_fetch

from .conftest import STADT, tree_bytes, write_config

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
LOOKUP = r"/mastodon/musterstadt\.social/api/v1/accounts/lookup"
LISTING = r"/mastodon/musterstadt\.social/api/v1/accounts/{}/statuses"
STADT_ID, FEUERWEHR_ID = "109000000000000001", "109000000000000002"


def clock() -> datetime:
    return NOW


def stadt_config(folder: Path, server: DemoServer, **fetch: Any) -> Any:
    return write_config(folder, server, accounts=[dict(STADT)], fetch=fetch or None)


def listing(account_id: str = STADT_ID) -> str:
    return LISTING.format(account_id)


# -- rate limits and retries -----------------------------------------------------------------------
def _http_date(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


def _iso(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("status", "headers", "low", "high"),
    [
        (429, lambda: {"Retry-After": "7"}, 7, 7),
        (503, lambda: {"Retry-After": _http_date(30)}, 20, 31),
        (429, lambda: {"X-RateLimit-Reset": _iso(40), "X-RateLimit-Remaining": "0"}, 30, 41),
        (429, lambda: {"x-rate-limit-reset": str(int(time.time()) + 50)}, 40, 51),
    ],
    ids=["retry-after-seconds", "retry-after-http-date", "mastodon-iso-reset", "x-epoch-reset"],
)
def test_a_rate_limit_is_waited_out_as_the_server_asks(
    tmp_path: Path, server: DemoServer, status: int, headers: Any, low: float, high: float
) -> None:
    """429/503 with Retry-After (seconds or HTTP date), Mastodon's ISO and X's epoch reset."""
    config = stadt_config(tmp_path, server, max_wait=60)
    server.fail(listing(), status, body='{"error":"slow down"}', headers=headers())
    waits: list[float] = []
    report = run_fetch(config, sleep=waits.append, clock=clock)
    assert report.accounts[0].status == "ok", report.summary_lines()
    assert len(waits) == 1 and low <= waits[0] <= high, waits
    assert len(server.requests_to(listing())) >= 2


def test_a_wait_longer_than_max_wait_ends_the_account_at_once(
    tmp_path: Path, server: DemoServer
) -> None:
    config = stadt_config(tmp_path, server, max_wait=5)
    server.fail(listing(), 429, headers={"Retry-After": _http_date(3600)}, times=5)
    waits: list[float] = []
    report = run_fetch(config, sleep=waits.append, clock=clock)
    assert report.accounts[0].status == "failed" and "rate limited" in report.accounts[0].error
    assert report.accounts[0].error_kind == "rate_limit"
    assert waits == [] and len(server.requests_to(listing())) == 1


def test_an_exhausted_rate_limit_waits_before_the_next_request_capped_at_max_wait(
    tmp_path: Path, server: DemoServer
) -> None:
    """X-RateLimit-Remaining: 0 on a success: the next request waits for the reset, capped."""
    config = stadt_config(tmp_path, server, max_wait=5)
    server.fail(
        LOOKUP,
        200,
        body=json.dumps({"id": STADT_ID}),
        headers={
            "Content-Type": "application/json",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": _iso(1000),
        },
    )
    waits: list[float] = []
    report = run_fetch(config, sleep=waits.append, clock=clock)
    assert report.accounts[0].status == "ok"
    assert waits and 4 <= waits[0] <= 5, waits


def test_server_errors_are_retried_with_growing_waits_and_then_reported(
    tmp_path: Path, server: DemoServer
) -> None:
    config = stadt_config(tmp_path, server, retries=3)
    server.fail(listing(), 502, body="<html>Bad Gateway</html>", times=2)
    waits: list[float] = []
    assert run_fetch(config, sleep=waits.append, clock=clock).accounts[0].status == "ok"
    assert waits == [1.0, 2.0]

    (tmp_path / "zwei").mkdir()
    config = stadt_config(tmp_path / "zwei", server, retries=2)
    server.log.clear()
    server.fail(listing(), 500, times=100)
    server.mastodon.add_post(
        "stadt", {"id": "112500000000000001", "at": "2026-11-27T08:00:00Z", "text": "Neu"}
    )
    waits.clear()
    report = run_fetch(config, sleep=waits.append, clock=clock)
    assert report.accounts[0].status == "failed" and "server error" in report.accounts[0].error
    assert waits == [1.0, 2.0] and len(server.requests_to(listing())) == 3


class _Hold:
    """A handler that holds matching requests: slower than the client waits, or until released."""

    def __init__(self, pattern: str, seconds: float | None = None) -> None:
        self.pattern, self.seconds = re.compile(pattern), seconds
        self.release = threading.Event()
        self.arrived = threading.Event()

    def __call__(self, request: Request) -> Response | None:
        if self.pattern.search(request.path):
            self.arrived.set()
            self.release.wait(self.seconds)
        return None


def test_a_timeout_is_retried_and_then_reported_as_such(tmp_path: Path, server: DemoServer) -> None:
    config = stadt_config(tmp_path, server, timeout=1, retries=1)
    hold = _Hold(listing(), seconds=3)
    server.handlers.insert(0, ("/mastodon/", hold))
    waits: list[float] = []
    report = run_fetch(config, sleep=waits.append, clock=clock)
    assert report.accounts[0].status == "failed" and "timeout" in report.accounts[0].error
    assert report.accounts[0].error_kind == "transient"
    assert waits == [1.0]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<!doctype html><title>Wartung</title>", "text/html", "expected JSON"),
        (b'{"error": "This method requires an authenticated user"}', "application/json", "list"),
    ],
    ids=["html", "error-object"],
)
def test_a_200_that_is_not_the_data_is_a_failure_not_zero_posts(
    tmp_path: Path, server: DemoServer, body: bytes, content_type: str, expected: str
) -> None:
    """Even on the very first run: the account fails and never counts as fetched."""
    config = stadt_config(tmp_path, server)
    server.fail(listing(), 200, body=body, headers={"Content-Type": content_type}, times=10)
    report = run_fetch(config, clock=clock)
    assert report.accounts[0].status == "failed" and expected in report.accounts[0].error
    assert report.exit_code == 1
    status = json.loads((config.archive_dir / "status.json").read_bytes())
    assert "last_success" not in status["stadt"]
    assert not (config.archive_dir / "state" / "stadt.json").exists()


# -- one account failing, the run summary, stale accounts ---------------------------------------
class _FailOlderPages:
    """Answer the newest page of a listing normally, every older page (max_id) with a 503."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __call__(self, request: Request) -> Response | None:
        if self.pattern.search(request.path) and request.param("max_id"):
            return Response(503, b"<html>Overloaded</html>", {"Content-Type": "text/html"})
        return None


def test_failed_partial_and_stale_accounts_are_named_in_exit_code_summary_and_step_summary(
    tmp_path: Path,
    server: DemoServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """stadt fails, feuerwehr breaks on its second page, buecherei is fine and still updated."""
    for n in range(45):
        server.mastodon.add_post(
            "feuerwehr",
            {"id": f"1125000000000{n:05d}", "at": f"2026-11-25T10:{n:02d}:00Z", "text": f"E{n}"},
        )
    config = write_config(tmp_path, server, fetch={"retries": 0})
    run_fetch(config, clock=clock, only={"stadt"})  # stadt had a success at NOW
    later = NOW + timedelta(hours=25)
    server.fail(listing(STADT_ID), 500, times=100)
    server.handlers.insert(0, ("/mastodon/", _FailOlderPages(listing(FEUERWEHR_ID))))
    report = run_fetch(config, clock=lambda: later, sleep=lambda _: None)
    stadt, feuerwehr, buecherei = report.accounts
    assert (stadt.status, feuerwehr.status, buecherei.status) == ("failed", "partial", "ok")
    assert feuerwehr.new == 40 and buecherei.new > 0
    assert stadt.stale and not feuerwehr.stale and not buecherei.stale
    assert report.exit_code == 1
    text = "\n".join(report.summary_lines())
    assert "STALE: no successful fetch since 2026-11-27T12:00:00+00:00" in text
    assert "partial" in text and "server error" in text

    # The same through the command, with the table for the GitHub Actions run page.
    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("# vorher\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    server.fail(listing(STADT_ID), 500, times=100)
    # The command runs on the real clock: make stadt's last success long past.
    status_file = config.archive_dir / "status.json"
    status = json.loads(status_file.read_bytes())
    status["stadt"]["last_success"] = "2025-01-01T00:00:00+00:00"
    status_file.write_text(json.dumps(status), encoding="utf-8")
    code = main(["--config", str(config.path), "fetch"])
    assert code == 1
    table = summary_file.read_text(encoding="utf-8")
    assert table.startswith("# vorher\n"), "the summary is appended to, never overwritten"
    assert "| account | platform | status | new | updated | deleted | requests | error |" in table
    assert "| stadt | mastodon | failed (stale) |" in table
    assert "| buecherei | mastodon | ok |" in table
    assert "server error" in table
    assert "stale" in capsys.readouterr().err


# -- a run killed at any moment ----------------------------------------------------------------
def _fetch_command(config_path: Path) -> list[str]:
    return [sys.executable, "-m", "fetch.cli", "--config", str(config_path), "fetch"]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _all_json_parses(archive_dir: Path) -> None:
    for path in archive_dir.rglob("*.json"):
        json.loads(path.read_bytes())  # raises on a half-written file


def _files(archive_dir: Path) -> dict[str, bytes]:
    return tree_bytes(archive_dir, skip=(".lock",))


def _without_check_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_check_times(v) for k, v in value.items() if not k.endswith("checked_at")
        }
    return value


def _comparable(archive_dir: Path) -> dict[str, bytes]:
    """The archive's files; in state/ without the times a source noted a periodic check (two
    runs at different times differ there by design, and nowhere else)."""
    files = tree_bytes(archive_dir)
    for name, data in files.items():
        if name.startswith("state/"):
            files[name] = json.dumps(
                _without_check_times(json.loads(data)), sort_keys=True
            ).encode()
    return files


def test_a_run_killed_at_any_moment_leaves_a_whole_archive_and_the_next_run_completes_it(
    tmp_path: Path, server: DemoServer
) -> None:
    """SIGKILL at spread points of a real `aushang fetch`: every file whole, then the same
    archive as an uninterrupted run; a further run changes no byte but status.json."""
    (tmp_path / "ref").mkdir()
    reference = write_config(tmp_path / "ref", server)
    started = time.monotonic()
    done = subprocess.run(_fetch_command(reference.path), env=_environment(), capture_output=True)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr.decode()

    started = time.monotonic()
    subprocess.run(
        [*_fetch_command(reference.path)[:-1], "--version"], env=_environment(), capture_output=True
    )
    startup = time.monotonic() - started  # Python and imports, before any work
    killed_dir = tmp_path / "killed"
    killed_dir.mkdir()
    config = write_config(killed_dir, server)
    # Kill the runs at growing moments, from just past start-up to beyond an uninterrupted run's
    # time: each makes a little progress and dies somewhere else, until one finishes in time.
    # Growing delays keep this independent of how loaded the machine is.
    kills = 0
    for attempt in range(30):
        delay = startup + 0.2 + attempt * max(duration / 10, 0.2)
        process = subprocess.Popen(
            _fetch_command(config.path),
            env=_environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        _all_json_parses(config.archive_dir)
        if process.returncode == 0:
            break
    assert kills >= 3, "the kills must land while the run works"

    finished = subprocess.run(_fetch_command(config.path), env=_environment(), capture_output=True)
    assert finished.returncode == 0, finished.stderr.decode()
    assert _comparable(config.archive_dir) == _comparable(reference.archive_dir)
    assert not [p for p in config.archive_dir.rglob("*.tmp")], "temporary files were cleaned up"

    before = _files(config.archive_dir)
    again = subprocess.run(_fetch_command(config.path), env=_environment(), capture_output=True)
    assert again.returncode == 0
    after = _files(config.archive_dir)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    # status.json holds the time of the attempt (to the second): it may change, nothing else
    assert changed <= {"status.json"}, "only status.json (the time of the attempt) may change"


def test_temporary_files_of_a_killed_write_are_removed_by_the_next_run(
    tmp_path: Path, server: DemoServer
) -> None:
    config = stadt_config(tmp_path, server)
    run_fetch(config, clock=clock)
    leftover = config.archive_dir / "posts" / "stadt" / ".112400000000000101.json.k3j9x2.tmp"
    leftover.write_bytes(b'{"half": ')
    run_fetch(config, clock=clock)
    assert not leftover.exists()


@pytest.fixture
def held_server() -> Iterator[tuple[DemoServer, _Hold]]:
    with DemoServer() as demo:
        hold = _Hold(listing(FEUERWEHR_ID), seconds=60)
        demo.handlers.insert(0, ("/mastodon/", hold))
        yield demo, hold
        hold.release.set()


def test_two_runs_at_once_cannot_both_write(
    tmp_path: Path, held_server: tuple[DemoServer, _Hold]
) -> None:
    """The second `aushang fetch` stops at the archive lock, writes nothing, and says why."""
    server, hold = held_server
    config = write_config(tmp_path, server, fetch={"timeout": 90})
    first = subprocess.Popen(
        _fetch_command(config.path),
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert hold.arrived.wait(60), "the first run never reached the held request"
        before = _files(config.archive_dir)
        second = subprocess.run(
            _fetch_command(config.path), env=_environment(), capture_output=True, timeout=60
        )
        assert second.returncode == 1
        assert b"another Aushang run holds the archive lock" in second.stderr
        assert _files(config.archive_dir) == before, "the second run wrote while the first ran"
    finally:
        hold.release.set()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err.decode()
    assert Archive(config.archive_dir).native_ids("feuerwehr")


# -- progress --------------------------------------------------------------------------------------
def test_long_fetches_log_progress_and_a_final_summary(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(60):
        server.mastodon.add_post(
            "stadt",
            {"id": f"1125000000000{n:05d}", "at": f"2026-11-25T11:{n:02d}:00Z", "text": f"P{n}"},
        )
    config = stadt_config(tmp_path, server)
    caplog.set_level(logging.INFO, logger="aushang")
    run_fetch(config, clock=clock)
    messages = [r.getMessage() for r in caplog.records]
    assert any("stadt: 50 posts read so far" in m for m in messages), messages
    assert any(re.match(r"stadt: 8\d new, 0 updated", m) for m in messages), messages
    assert any(m.startswith("fetch done: 1 account(s), 8") for m in messages), messages
