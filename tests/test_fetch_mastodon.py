"""Fetching Mastodon accounts from the demo server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fetch.archive import Archive
from fetch.demo.server import DemoServer
from fetch.run import run_fetch

from .conftest import STADT, tree_bytes, write_config

STADT_STATUSES = r"/mastodon/musterstadt\.social/api/v1/accounts/\d+/statuses"


def _post(native_id: str, at: str, text: str) -> dict[str, object]:
    return {"id": native_id, "at": at, "lang": "de", "text": text}


def test_first_run_archives_public_posts_with_media_and_skips_private_ones(
    tmp_path: Path, server: DemoServer
) -> None:
    """Public posts are archived with their raw payload; unlisted and direct ones never."""
    config = write_config(tmp_path, server)
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    archive = Archive(config.archive_dir)
    posts = {p.native_id: p for p in archive.iter_posts()}
    demo_ids = {str(p["id"]): p for a in server.mastodon.accounts for p in a["posts"]}
    public = {i for i, p in demo_ids.items() if p.get("visibility", "public") == "public"}
    assert set(posts) == public
    assert len(public) < len(demo_ids), "the demo data must hold non-public posts to skip"
    for native_id, post in posts.items():
        assert archive.raw_path(post.account, native_id).exists()
        for media in post.media:
            assert not media.rejected, (native_id, media.rejected)
            assert media.variants, native_id
            for variant in media.variants:
                assert (config.archive_dir / "media" / variant.path).exists()


def test_second_run_with_nothing_new_changes_no_byte_and_asks_once_per_account(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server)
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = run_fetch(config)
    assert report.exit_code == 0
    assert tree_bytes(config.archive_dir) == before
    assert [a.requests for a in report.accounts] == [1, 1, 1]
    assert not server.requests_to("/media/"), "a run with nothing new must download no media"


def test_more_than_one_new_page_is_fetched_completely_with_min_id(
    tmp_path: Path, server: DemoServer
) -> None:
    """since_id would skip posts when two pages are new; min_id paging must not."""
    config = write_config(
        tmp_path,
        server,
        accounts=[
            {
                "key": "stadt",
                "platform": "mastodon",
                "instance": "musterstadt.social",
                "handle": "stadt",
            }
        ],
    )
    run_fetch(config)
    for n in range(45):
        server.mastodon.add_post(
            "stadt", _post(f"1130000000000{n:05d}", f"2026-11-20T10:{n:02d}:00Z", f"Neu {n}")
        )
    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].new == 45
    ids = Archive(config.archive_dir).native_ids("stadt")
    assert {f"1130000000000{n:05d}" for n in range(45)} <= ids
    requests = server.requests_to(STADT_STATUSES)
    assert all("since_id" not in r.query for r in requests)
    assert "min_id" in requests[0].query
    assert len(requests) >= 2, "45 new posts need two pages of 40"


def test_account_not_found_is_reported_and_other_accounts_still_update(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(
        tmp_path,
        server,
        accounts=[
            {
                "key": "weg",
                "platform": "mastodon",
                "instance": "musterstadt.social",
                "handle": "gibtesnicht",
            },
            {
                "key": "stadt",
                "platform": "mastodon",
                "instance": "musterstadt.social",
                "handle": "stadt",
            },
        ],
    )
    report = run_fetch(config)
    failed, ok = report.accounts
    assert failed.status == "failed" and "not found" in failed.error
    assert "accounts/lookup" in failed.error
    assert ok.status == "ok" and ok.new > 0
    assert report.exit_code == 1


def test_instance_requiring_sign_in_gives_a_clear_error_and_a_token_fixes_it(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.required_token = "fake-token-3f9a7c1e"
    accounts = [
        {
            "key": "stadt",
            "platform": "mastodon",
            "instance": "musterstadt.social",
            "handle": "stadt",
            "token_env": "MUSTERSTADT_MASTODON_TOKEN",
        }
    ]
    config = write_config(tmp_path, server, accounts=accounts)
    report = run_fetch(config, environ={})
    assert report.accounts[0].status == "failed"
    assert "MUSTERSTADT_MASTODON_TOKEN" in report.accounts[0].error

    report = run_fetch(config, environ={"MUSTERSTADT_MASTODON_TOKEN": "wrong-token"})
    assert report.accounts[0].status == "failed"
    assert (
        "401" in report.accounts[0].error and "renew the access token" in report.accounts[0].error
    )

    caplog.set_level(logging.DEBUG)
    report = run_fetch(config, environ={"MUSTERSTADT_MASTODON_TOKEN": "fake-token-3f9a7c1e"})
    assert report.accounts[0].status == "ok" and report.accounts[0].new > 0
    statuses = server.requests_to(STADT_STATUSES)
    assert statuses[-1].headers["authorization"] == "Bearer fake-token-3f9a7c1e"
    assert all("fake-token" not in r.path and "fake-token" not in str(r.query) for r in server.log)
    assert "fake-token-3f9a7c1e" not in caplog.text
    for path in config.archive_dir.rglob("*"):
        if path.is_file() and path.suffix == ".json":
            assert "fake-token-3f9a7c1e" not in path.read_text(encoding="utf-8"), path


def test_rate_limit_with_retry_after_is_waited_out(tmp_path: Path, server: DemoServer) -> None:
    config = write_config(
        tmp_path,
        server,
        accounts=[
            {
                "key": "stadt",
                "platform": "mastodon",
                "instance": "musterstadt.social",
                "handle": "stadt",
            }
        ],
    )
    server.fail(
        STADT_STATUSES,
        429,
        body='{"error":"Too many requests"}',
        headers={"Retry-After": "1", "Content-Type": "application/json"},
    )
    report = run_fetch(config)
    assert report.accounts[0].status == "ok"
    assert len(server.requests_to(STADT_STATUSES)) >= 2


def test_rate_limit_longer_than_max_wait_fails_the_account_without_waiting(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(
        tmp_path,
        server,
        accounts=[
            {
                "key": "stadt",
                "platform": "mastodon",
                "instance": "musterstadt.social",
                "handle": "stadt",
            }
        ],
        fetch={"max_wait": 2},
    )
    server.fail(STADT_STATUSES, 429, headers={"Retry-After": "3600"}, times=5)
    report = run_fetch(config)
    assert report.accounts[0].status == "failed"
    assert "rate limited" in report.accounts[0].error
    assert len(server.requests_to(STADT_STATUSES)) == 1


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (503, b"<html>Bad gateway</html>", {"Content-Type": "text/html"}, "server error"),
        (200, b"<html>Wartungsarbeiten</html>", {"Content-Type": "text/html"}, "expected JSON"),
        (200, b'[{"id": "1", ', {"Content-Type": "application/json"}, "malformed JSON"),
        (200, b'{"error": "oops"}', {"Content-Type": "application/json"}, "expected a list"),
    ],
    ids=["5xx", "html-instead-of-json", "truncated-json", "error-object"],
)
def test_a_broken_answer_fails_the_account_and_the_archive_stays_intact(
    tmp_path: Path,
    server: DemoServer,
    status: int,
    body: bytes,
    headers: dict[str, str],
    expected: str,
) -> None:
    """A transient failure is reported, never mistaken for zero posts, and loses nothing."""
    config = write_config(tmp_path, server)
    run_fetch(config)
    server.mastodon.add_post("stadt", _post("113900000000000001", "2026-11-21T08:00:00Z", "Neu"))
    before = tree_bytes(config.archive_dir)
    state_before = (config.archive_dir / "state" / "stadt.json").read_bytes()
    server.fail(
        STADT_STATUSES.replace(r"\d+", "109000000000000001"),
        status,
        body=body,
        headers=headers,
        times=10,
    )
    report = run_fetch(config)
    stadt = next(a for a in report.accounts if a.key == "stadt")
    assert stadt.status == "failed" and expected in stadt.error
    assert all(a.status == "ok" for a in report.accounts if a.key != "stadt")
    assert tree_bytes(config.archive_dir) == before
    assert (config.archive_dir / "state" / "stadt.json").read_bytes() == state_before
    assert not any(f.name.endswith(".tmp") for f in config.archive_dir.rglob("*"))

    server.faults.clear()
    report = run_fetch(config)  # the platform is back: the post arrives, nothing was skipped
    assert next(a for a in report.accounts if a.key == "stadt").new == 1


def test_a_timeout_is_retried_and_then_reported(
    tmp_path: Path, server: DemoServer, silent_port: int
) -> None:
    import httpx

    from fetch.http import Http

    waits: list[float] = []
    http = Http(httpx.Client(timeout=0.5), retries=2, sleep=waits.append)
    account = {**STADT, "api_base": f"http://127.0.0.1:{silent_port}"}
    config = write_config(tmp_path, server, accounts=[account])
    report = run_fetch(config, http=http)
    assert report.accounts[0].status == "failed"
    assert "timeout" in report.accounts[0].error
    assert waits == [1.0, 2.0]


def test_archived_post_files_are_stable_sorted_json(tmp_path: Path, server: DemoServer) -> None:
    config = write_config(tmp_path, server)
    run_fetch(config)
    for path in (config.archive_dir / "posts").rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        assert text == json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        assert data["schema"] == 1
        assert data["id"] == f"mastodon:{data['account']}:{data['native_id']}"
