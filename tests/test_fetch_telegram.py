"""Fetching a public Telegram channel's web preview (t.me/s/<channel>) from the demo server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fetch.archive import Archive
from fetch.demo.server import DemoServer
from fetch.run import run_fetch

from .conftest import tree_bytes, write_config

PREVIEW = r"^/telegram/s/musterstadt"


def _account(server: DemoServer, channel: str = "musterstadt") -> dict[str, Any]:
    return {
        "key": "stadt-telegram",
        "platform": "telegram",
        "name": "Stadt Musterstadt (Telegram)",
        "channel": channel,
        "api_base": f"{server.url}/telegram",
    }


def _no_wait(seconds: float) -> None:
    pass


def _message(number: int, at: str, text: str) -> dict[str, Any]:
    return {"id": number, "at": at, "text": text}


def test_first_run_pages_back_and_archives_every_message(
    tmp_path: Path, server: DemoServer
) -> None:
    """?before= paging to the channel's start; the service message is no post."""
    server.telegram.page_size = 2
    config = write_config(tmp_path, server, accounts=[_account(server)])
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    archive = Archive(config.archive_dir)
    posts = {p.native_id: p for p in archive.iter_posts("stadt-telegram")}
    assert set(posts) == {"2", "3", "4", "7", "8", "9", "10"}
    befores = [r.param("before") for r in server.requests_to(PREVIEW)]
    assert befores == [None, "9", "7", "3"]

    welcome = posts["2"]
    assert welcome.url == "https://t.me/musterstadt/2"
    assert "<b>Willkommen beim Telegram-Kanal der Stadt Musterstadt!</b>" in welcome.text_html
    assert 'href="https://www.musterstadt.de/buergerbuero"' in welcome.text_html  # no utm_
    assert welcome.hashtags == ("Musterstadt",)
    assert "👋" in welcome.text_html and "emoji" not in welcome.text_html
    assert len(posts["4"].media) == 3  # the album
    assert posts["7"].media[0].kind == "video" and posts["7"].media[0].url.startswith(
        "https://t.me"
    )
    card = posts["8"].card
    assert card is not None and card.url == "https://www.musterstadt.de/ferienprogramm?jahr=2026"
    assert card.image is not None and card.image.variants
    origin = posts["9"].repost_of
    assert origin is not None and origin.handle == "@feuerwehr_musterstadt"
    assert posts["10"].edited is not None
    for post in posts.values():
        for media in (*post.media, *([post.card.image] if post.card and post.card.image else [])):
            assert media.variants and not media.rejected, (post.native_id, media)
    state = json.loads(archive.state_path("stadt-telegram").read_bytes())["cursor"]
    assert state["newest_id"] == 10 and set(state["edited_seen"]) == {"10"}


def test_second_run_with_nothing_new_changes_no_byte(tmp_path: Path, server: DemoServer) -> None:
    """View counts, reactions and the avatar change on every visit; the archive does not."""
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].requests == 1
    assert (report.accounts[0].new, report.accounts[0].updated) == (0, 0)
    assert tree_bytes(config.archive_dir) == before
    assert not server.requests_to("/media/")


def test_later_runs_read_back_only_to_the_newest_known_message(
    tmp_path: Path, server: DemoServer
) -> None:
    server.telegram.page_size = 2
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    for number, minute in ((11, 10), (12, 20), (13, 30)):
        server.telegram.add_message(
            "musterstadt", _message(number, f"2026-11-21T08:{minute}:00Z", f"Neu {number}")
        )
    server.log.clear()
    report = run_fetch(config)
    assert (report.accounts[0].new, report.accounts[0].updated) == (3, 0)
    assert [r.param("before") for r in server.requests_to(PREVIEW)] == [None, "12"]
    assert {"11", "12", "13"} <= Archive(config.archive_dir).native_ids("stadt-telegram")


def test_first_run_stops_at_max_pages(tmp_path: Path, server: DemoServer) -> None:
    server.telegram.page_size = 2
    config = write_config(tmp_path, server, accounts=[_account(server)], fetch={"max_pages": 2})
    report = run_fetch(config)
    assert report.accounts[0].new == 4
    assert len(server.requests_to(PREVIEW)) == 2
    assert Archive(config.archive_dir).native_ids("stadt-telegram") == {"7", "8", "9", "10"}


def test_an_edit_gets_the_time_it_was_first_seen_and_keeps_it(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    archive = Archive(config.archive_dir)
    assert archive.load_post("stadt-telegram", "3").edited is None  # type: ignore[union-attr]
    server.telegram.edit_message(
        "musterstadt", 3, edited=True, text="Das <b>Sommerfest</b> ist am Sonntag, 28. Juni."
    )
    report = run_fetch(config)
    assert report.accounts[0].updated == 1
    edited = archive.load_post("stadt-telegram", "3")
    assert edited is not None and edited.edited is not None and "Sonntag" in edited.text_html
    before = tree_bytes(config.archive_dir)
    report = run_fetch(config)
    assert report.accounts[0].updated == 0
    assert tree_bytes(config.archive_dir) == before
    assert archive.load_post("stadt-telegram", "3") == edited


def test_a_channel_without_public_preview_gives_a_clear_error(
    tmp_path: Path, server: DemoServer
) -> None:
    """t.me/s/<name> redirects to t.me/<name>: say so, never report zero posts."""
    config = write_config(tmp_path, server, accounts=[_account(server, "stadtrat_intern")])
    report = run_fetch(config)
    account = report.accounts[0]
    assert account.status == "failed"
    assert "has no public web preview" in account.error and "redirects to" in account.error
    assert "stadtrat_intern" in account.error


def test_a_page_without_message_list_is_an_error_and_loses_nothing(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.fail(
        PREVIEW,
        200,
        body="<html><body><div class='tgme_page'>Please open Telegram to view this post"
        "</div></body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    report = run_fetch(config)
    assert report.accounts[0].status == "failed"
    assert "shows no messages" in report.accounts[0].error
    assert tree_bytes(config.archive_dir) == before


def test_a_5xx_is_reported_and_the_archive_is_untouched(tmp_path: Path, server: DemoServer) -> None:
    config = write_config(tmp_path, server, accounts=[_account(server)])
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.telegram.add_message("musterstadt", _message(11, "2026-11-21T08:00:00Z", "Neu"))
    server.fail(PREVIEW, 502, body="<html>Bad Gateway</html>", times=5)
    report = run_fetch(config, sleep=_no_wait)
    assert report.accounts[0].status == "failed" and "server error" in report.accounts[0].error
    assert tree_bytes(config.archive_dir) == before
    server.faults.clear()
    report = run_fetch(config)
    assert report.accounts[0].new == 1


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
