"""Fetching a YouTube channel's feed from the demo server over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fetch.archive import Archive
from fetch.demo.server import DemoServer
from fetch.run import run_fetch

from .conftest import tree_bytes, write_config

CHANNEL = "UCmUsTeRsTaDt0fFiZiElL2a"
FEED = r"^/youtube/feeds/videos\.xml"


def _account(server: DemoServer, channel_id: str = CHANNEL) -> dict[str, Any]:
    return {
        "key": "stadt-youtube",
        "platform": "youtube",
        "name": "Stadt Musterstadt (YouTube)",
        "channel_id": channel_id,
        "api_base": f"{server.url}/youtube",
    }


def _no_wait(seconds: float) -> None:
    pass


def _not_found_runs(config_dir: Path) -> int | None:
    state = json.loads((config_dir / "state" / "stadt-youtube.json").read_bytes())
    value = state["cursor"].get("feed_not_found_runs")
    return int(value) if value is not None else None


def test_videos_become_posts_with_a_rehosted_poster_that_links_out(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=[_account(server)])
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    assert report.accounts[0].new == 6
    archive = Archive(config.archive_dir)
    posts = {p.native_id: p for p in archive.iter_posts("stadt-youtube")}
    radwege = posts["mSt2026Jun1"]
    assert radwege.title == "Neue Radwege in der Innenstadt – so geht es weiter"
    assert radwege.url == "https://www.youtube.com/watch?v=mSt2026Jun1"
    assert radwege.published == "2026-06-05T15:00:00+00:00"
    assert 'href="https://www.musterstadt.de/radverkehr"' in radwege.text_html
    assert "utm_" not in radwege.text_html
    assert radwege.hashtags == ("Musterstadt", "Radverkehr")
    for post in posts.values():
        (poster,) = post.media
        assert poster.kind == "video" and poster.url == post.url
        assert poster.variants and not poster.rejected, post.native_id
        raw = json.loads(archive.raw_path("stadt-youtube", post.native_id).read_bytes())
        # What YouTube changes on every visit is not kept, so it cannot rewrite the archive.
        assert "updated" not in raw["entry"] and "media_statistics" not in raw["entry"]


def test_second_run_changes_no_byte_although_views_and_updated_changed(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].requests == 1
    assert (report.accounts[0].new, report.accounts[0].updated) == (0, 0)
    assert tree_bytes(config.archive_dir) == before
    assert server.youtube.requests == 2  # the demo's counters did change between the runs


def test_a_single_404_is_transient_and_loses_nothing(tmp_path: Path, server: DemoServer) -> None:
    """YouTube's feed answers 404 now and then: never a deletion, never "account not found"."""
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    before = {p.native_id for p in Archive(config.archive_dir).iter_posts("stadt-youtube")}
    server.fail(FEED, 404, body="<html>404</html>", headers={"Content-Type": "text/html"}, times=2)
    report = run_fetch(config, sleep=_no_wait)
    account = report.accounts[0]
    assert account.status == "ok" and "not found" not in account.error
    assert account.requests == 2  # asked once more before giving up for this run
    assert {p.native_id for p in Archive(config.archive_dir).iter_posts("stadt-youtube")} == before
    assert _not_found_runs(config.archive_dir) == 1

    report = run_fetch(config)  # the feed is back: the count starts again
    assert report.accounts[0].status == "ok"
    assert _not_found_runs(config.archive_dir) is None


def test_a_404_answered_on_the_second_try_is_read_in_the_same_run(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=[_account(server)])
    server.fail(FEED, 404, times=1)
    report = run_fetch(config, sleep=_no_wait)
    assert report.accounts[0].status == "ok" and report.accounts[0].new == 6


def test_404_in_several_runs_in_a_row_is_reported_with_the_channel_id(
    tmp_path: Path, server: DemoServer
) -> None:
    """A wrong channel_id: the first runs wait and see, then the report names what to check."""
    config = write_config(tmp_path, server, accounts=[_account(server, "UCgIbTeSnIcHt0000000000x")])
    statuses = [run_fetch(config, sleep=_no_wait).accounts[0] for _ in range(4)]
    assert [s.status for s in statuses] == ["ok", "ok", "failed", "failed"]
    for failed in statuses[2:]:
        assert "answered 404 3 times in a row; check the channel_id" in failed.error
        assert "UCgIbTeSnIcHt0000000000x" in failed.error
    assert not (config.archive_dir / "posts" / "stadt-youtube").exists()


def test_a_5xx_is_retried_then_reported_and_the_archive_is_untouched(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    server.fail(FEED, 500, body="<html>Oops</html>", headers={"Content-Type": "text/html"}, times=5)
    report = run_fetch(config, sleep=_no_wait)
    assert report.accounts[0].status == "failed" and "server error" in report.accounts[0].error
    assert len(server.requests_to(FEED)) == 1 + 2  # the request and the 2 retries of the config
    assert tree_bytes(config.archive_dir) == before


def test_a_consent_page_instead_of_the_feed_is_a_payload_error(
    tmp_path: Path, server: DemoServer
) -> None:
    """A 200 HTML page (a cookie wall, a maintenance page) is not an empty channel."""
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.fail(
        FEED,
        200,
        body="<!DOCTYPE html><html><body><form action='https://consent.youtube.com/save'>"
        "Bevor Sie zu YouTube weitergehen</form></body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    report = run_fetch(config)
    assert report.accounts[0].status == "failed"
    assert "HTML page, not a feed" in report.accounts[0].error
    assert tree_bytes(config.archive_dir) == before


def test_a_silent_server_times_out_and_is_reported(
    tmp_path: Path, server: DemoServer, silent_port: int
) -> None:
    import httpx

    from fetch.http import Http

    waits: list[float] = []
    http = Http(httpx.Client(timeout=0.5), retries=1, sleep=waits.append)
    account = _account(server)
    account["api_base"] = f"http://127.0.0.1:{silent_port}"
    config = write_config(tmp_path, server, accounts=[account])
    report = run_fetch(config, http=http)
    assert report.accounts[0].status == "failed" and "timeout" in report.accounts[0].error
    assert waits == [1.0]
