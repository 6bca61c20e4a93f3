"""Fetching Bluesky accounts from the demo server's AppView over real HTTP on 127.0.0.1."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from fetch.config import Config
from fetch.demo.server import DemoServer
from fetch.http import Http
from fetch.run import run_fetch

from .conftest import tree_bytes, write_config

FEED = r"/bluesky/xrpc/app\.bsky\.feed\.getAuthorFeed"
RESOLVE = r"/bluesky/xrpc/com\.atproto\.identity\.resolveHandle"
CITY = "musterstadt.bsky.social"
CITY_DID = "did:plc:mstadt7demoxq2kz4wv6hjnr"


def _account(server: DemoServer, **extra: Any) -> dict[str, Any]:
    return {
        "key": "stadt-bsky",
        "platform": "bluesky",
        "name": "Stadt Musterstadt (Bluesky)",
        "handle": CITY,
        "api_base": f"{server.url}/bluesky",
        **extra,
    }


def _config(tmp_path: Path, server: DemoServer, **extra: Any) -> Config:
    return write_config(tmp_path, server, accounts=[_account(server, **extra)])


def _post(n: int, at: str, text: str = "") -> dict[str, Any]:
    return {"id": f"neu-{n}", "at": at, "lang": "de", "text": text or f"Meldung Nummer {n}"}


def _minutes(n: int, base: str = "2026-12-01T00:00:00") -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(base) + timedelta(minutes=n)).isoformat() + "Z"


def _posts(config: Config) -> dict[str, dict[str, Any]]:
    folder = config.archive_dir / "posts" / "stadt-bsky"
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))
    }


def _city_posts(server: DemoServer) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = server.bluesky.account(CITY)["posts"]
    return posts


def test_first_run_archives_own_posts_and_self_threads_but_no_citizen_replies(
    tmp_path: Path, server: DemoServer
) -> None:
    """Own posts and the self-thread arrive; the reply to a citizen and the repost do not."""
    config = _config(tmp_path, server)
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    posts = _posts(config)
    expected = [p for p in _city_posts(server) if not p.get("reply_to_other")]
    assert len(posts) == len(expected) == 10
    assert {p["published"][:16] for p in posts.values()} == {p["at"][:16] for p in expected}
    assert all(p["repost_of"] is None for p in posts.values())
    archive_text = "".join(
        f.read_text(encoding="utf-8") for f in config.archive_dir.rglob("*.json")
    )
    assert "Rosenweg" not in archive_text, "a conversation with a citizen was archived"
    assert "Erika" not in archive_text

    thread = {p["text_html"][:20]: p for p in posts.values()}
    first = next(p for t, p in thread.items() if t.startswith("<p>Haushalt 2027"))
    second = next(p for t, p in thread.items() if t.startswith("<p>Investitionen"))
    assert second["reply_to"] == first["id"]
    assert first["url"] == f"https://bsky.app/profile/{CITY_DID}/post/{first['native_id']}"


def test_links_are_cleaned_and_umlauts_and_emoji_do_not_shift_facets(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    posts = list(_posts(config).values())
    for post in posts:
        text = json.dumps(post)
        assert "utm_" not in text and "mtm_" not in text, post["native_id"]
    holidays = next(p for p in posts if "Feiertage" in p["text_html"])
    assert (
        '<a href="https://www.musterstadt.de/buergerbuero/oeffnungszeiten" '
        'rel="nofollow noopener noreferrer">musterstadt.de/buergerbuero/oeff…</a>'
    ) in holidays["text_html"]
    assert '<span class="hashtag">#Bürgerbüro</span>' in holidays["text_html"]
    welcome = next(p for p in posts if p["text_html"].startswith("<p>Hallo Bluesky"))
    assert '<span class="mention">@feuerwehr-musterstadt.bsky.social</span>' in welcome["text_html"]
    assert "bsky.app/profile" not in welcome["text_html"], "mentions must not link to Bluesky"
    card = next(p["card"] for p in posts if p["card"])
    assert card["url"] == "https://www.musterstadt.de/abfall/kalender"
    assert card["image"]["variants"], "the card's thumbnail is re-hosted"
    english = next(p for p in posts if p["text_html"].startswith("<p>A warm welcome"))
    assert english["language"] == "en"
    quoting = next(p for p in posts if p["quote"])
    assert quoting["quote"]["origin"]["name"] == "Feuerwehr Musterstadt"
    assert "74 Einsätze" in quoting["quote"]["text_html"]


def test_images_and_video_posters_are_rehosted_without_metadata_and_no_video_is_fetched(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    posts = list(_posts(config).values())
    media = [m for p in posts for m in p["media"]]
    kinds = sorted(m["kind"] for m in media)
    assert kinds == ["image", "image", "image", "video"]
    assert sum(1 for m in media if not m["alt"]) == 1, "the demo has one image without alt text"
    assert any("gps=1" in m["source"] for m in media), "the demo must serve photos with GPS"
    for item in media:
        assert item["variants"] and not item["rejected"], item
        for variant in item["variants"]:
            with Image.open(
                io.BytesIO((config.archive_dir / "media" / variant["path"]).read_bytes())
            ) as image:
                assert not image.getexif(), variant["path"]
                assert "xmp" not in image.info and "exif" not in image.info
    video = next(m for m in media if m["kind"] == "video")
    assert video["url"].startswith(f"https://bsky.app/profile/{CITY_DID}/post/")
    assert not server.requests_to(r"playlist\.m3u8|/bluesky/video/"), "HLS must not be fetched"


def test_reposts_of_others_are_archived_only_when_configured(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server, options={"include_reposts": True})
    run_fetch(config)
    reposts = [p for p in _posts(config).values() if p["repost_of"]]
    assert len(reposts) == 1
    assert reposts[0]["repost_of"] == {
        "name": "Feuerwehr Musterstadt",
        "handle": "@feuerwehr-musterstadt.bsky.social",
        "url": reposts[0]["url"],
    }
    assert "Rauchmeldertag" in reposts[0]["text_html"]
    assert reposts[0]["published"] == "2026-09-12T09:20:00+00:00", "shared at, not written at"


def test_second_run_with_nothing_new_makes_one_request_and_changes_no_byte(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = run_fetch(config)
    assert report.exit_code == 0
    assert report.accounts[0].requests == 1
    assert [r.path for r in server.log] == ["/bluesky/xrpc/app.bsky.feed.getAuthorFeed"]
    assert server.log[0].query["actor"] == [CITY_DID], "the stored DID is used, not the handle"
    assert tree_bytes(config.archive_dir) == before


def test_a_new_post_arrives_with_one_request_and_a_late_indexed_one_is_not_lost(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    server.bluesky.add_post(CITY, _post(1, "2026-11-30T08:00:00Z", "Neu: Weihnachtsmarkt"))
    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].new == 1 and report.accounts[0].requests == 1
    # A post whose client time lies before the newest one we hold (a slow upload) must still
    # be picked up when it shows up later.
    server.bluesky.add_post(CITY, _post(2, "2026-11-30T07:30:00Z", "Spät indiziert"))
    report = run_fetch(config)
    assert report.accounts[0].new == 1
    assert any("Spät indiziert" in p["text_html"] for p in _posts(config).values())


def test_cursor_paging_reads_every_page_on_the_first_run_and_only_new_pages_later(
    tmp_path: Path, server: DemoServer
) -> None:
    for n in range(250):
        server.bluesky.add_post(CITY, _post(n, _minutes(n)))
    config = _config(tmp_path, server)
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    requests = server.requests_to(FEED)
    assert len(requests) == 3, "260 items need three pages of 100"
    assert "cursor" not in requests[0].query
    assert requests[1].query["cursor"] and requests[2].query["cursor"]
    assert all(r.query["limit"] == ["100"] for r in requests)
    assert len(_posts(config)) == 260

    for n in range(250, 400):
        server.bluesky.add_post(CITY, _post(n, _minutes(n)))
    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].new == 150
    assert len(server.requests_to(FEED)) == 2, "150 new posts: two pages, then stop"
    assert len(_posts(config)) == 410


def test_unknown_handle_fails_the_account_clearly_and_others_still_update(
    tmp_path: Path, server: DemoServer
) -> None:
    """Bluesky answers an unknown handle with 400 InvalidRequest, not 404."""
    accounts = [
        {**_account(server), "key": "weg", "handle": "gibt-es-nicht.bsky.social"},
        _account(server),
    ]
    config = write_config(tmp_path, server, accounts=accounts)
    report = run_fetch(config)
    failed, ok = report.accounts
    assert failed.status == "failed"
    assert "'gibt-es-nicht.bsky.social' does not resolve to an account" in failed.error
    assert "aushang.yml" in failed.error and "HTTP 400" in failed.error
    assert ok.status == "ok" and ok.new == 10
    assert report.exit_code == 1
    assert not (config.archive_dir / "state" / "weg.json").exists()


def test_a_changed_handle_at_bluesky_does_not_break_the_account(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    server.bluesky.account(CITY)["handle"] = "musterstadt.de"  # the city moved to its domain
    server.bluesky.add_post(CITY_DID, _post(1, "2026-11-30T08:00:00Z"))
    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].status == "ok" and report.accounts[0].new == 1
    assert not server.requests_to(RESOLVE)


def test_rate_limit_is_waited_out_until_ratelimit_reset(tmp_path: Path, server: DemoServer) -> None:
    """Bluesky's 429 carries ``ratelimit-reset`` (Unix seconds), not Retry-After."""
    config = _config(tmp_path, server)
    server.fail(
        FEED,
        429,
        body='{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}',
        headers={
            "Content-Type": "application/json",
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(int(time.time()) + 30),
            "ratelimit-policy": "3000;w=300",
        },
    )
    waits: list[float] = []
    http = Http(httpx.Client(timeout=5), retries=2, max_wait=60, sleep=waits.append)
    report = run_fetch(config, http=http)
    assert report.accounts[0].status == "ok", report.summary_lines()
    assert len(waits) == 1 and 20 < waits[0] <= 31, waits
    assert len(server.requests_to(FEED)) == 2


def test_rate_limit_reset_beyond_max_wait_fails_the_account_without_waiting(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    server.fail(
        FEED,
        429,
        body='{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}',
        headers={
            "Content-Type": "application/json",
            "ratelimit-reset": str(int(time.time()) + 3600),
        },
        times=5,
    )
    waits: list[float] = []
    http = Http(httpx.Client(timeout=5), retries=2, max_wait=60, sleep=waits.append)
    report = run_fetch(config, http=http)
    assert report.accounts[0].status == "failed"
    assert (
        "rate limited" in report.accounts[0].error
        and "RateLimitExceeded" in report.accounts[0].error
    )
    assert waits == [] and len(server.requests_to(FEED)) == 1


def test_an_exhausted_ratelimit_remaining_delays_the_next_request(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    server.fail(
        RESOLVE,
        200,
        body=json.dumps({"did": CITY_DID}),
        headers={
            "Content-Type": "application/json",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(int(time.time()) + 15),
        },
    )
    waits: list[float] = []
    http = Http(httpx.Client(timeout=5), retries=2, max_wait=60, sleep=waits.append)
    report = run_fetch(config, http=http)
    assert report.accounts[0].status == "ok"
    assert len(waits) == 1 and 5 < waits[0] <= 16, waits


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (502, b"<html>Bad gateway</html>", {"Content-Type": "text/html"}, "server error"),
        (200, b'{"feed": [{"post": ', {"Content-Type": "application/json"}, "malformed JSON"),
        (200, b'{"cursor": "x"}', {"Content-Type": "application/json"}, "expected an author feed"),
        (200, b"<html>Wartung</html>", {"Content-Type": "text/html"}, "expected JSON"),
    ],
    ids=["5xx", "truncated-json", "no-feed", "html-instead-of-json"],
)
def test_a_broken_answer_fails_the_account_and_loses_nothing(
    tmp_path: Path,
    server: DemoServer,
    status: int,
    body: bytes,
    headers: dict[str, str],
    expected: str,
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    server.bluesky.add_post(CITY, _post(1, "2026-11-30T08:00:00Z", "Neu"))
    before = tree_bytes(config.archive_dir)
    server.fail(FEED, status, body=body, headers=headers, times=10)
    waits: list[float] = []
    http = Http(httpx.Client(timeout=5), retries=2, sleep=waits.append)
    report = run_fetch(config, http=http)
    assert report.accounts[0].status == "failed" and expected in report.accounts[0].error
    assert waits == ([1.0, 2.0] if status >= 500 else []), "only server errors are retried"
    assert tree_bytes(config.archive_dir) == before
    assert not any(f.name.endswith(".tmp") for f in config.archive_dir.rglob("*"))

    server.faults.clear()
    report = run_fetch(config)  # back again: the new post arrives, nothing was skipped
    assert report.accounts[0].new == 1


def _set_post_label(server: DemoServer) -> None:
    server.bluesky.add_post(
        CITY, {**_post(1, "2026-11-30T08:00:00Z"), "labels": ["!no-unauthenticated"]}
    )


@pytest.mark.parametrize(
    "opt_out",
    [lambda s: s.bluesky.set_labels(CITY, ["!no-unauthenticated"]), _set_post_label],
    ids=["profile-label", "post-label"],
)
def test_an_author_who_opted_out_of_logged_out_visibility_is_not_published(
    tmp_path: Path, server: DemoServer, opt_out: Any
) -> None:
    opt_out(server)
    config = _config(tmp_path, server)
    report = run_fetch(config)
    account = report.accounts[0]
    assert account.status == "failed"
    assert "opted out of logged-out visibility" in account.error
    assert "!no-unauthenticated" in account.error
    assert _posts(config) == {}
    assert not (config.archive_dir / "media").exists() or not any(
        (config.archive_dir / "media").rglob("*.webp")
    )


def test_an_opt_out_after_earlier_runs_stops_the_account_and_keeps_its_state(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    state = (config.archive_dir / "state" / "stadt-bsky.json").read_bytes()
    server.bluesky.set_labels(CITY, ["!no-unauthenticated"])
    server.bluesky.add_post(CITY, _post(1, "2026-11-30T08:00:00Z", "Nicht veröffentlichen"))
    report = run_fetch(config)
    assert report.accounts[0].status == "failed"
    assert (config.archive_dir / "state" / "stadt-bsky.json").read_bytes() == state
    assert not any("Nicht veröffentlichen" in p["text_html"] for p in _posts(config).values())


def test_the_demo_config_fetches_bluesky_beside_mastodon(tmp_path: Path) -> None:
    """``aushang demo`` maps the Bluesky account of aushang.yml onto the demo server."""
    from fetch.config import load_config
    from fetch.demo.run import demo_config

    from .conftest import copy_project

    folder = copy_project(tmp_path)
    with DemoServer() as demo:
        config = demo_config(load_config(folder / "aushang.yml"), demo.url, folder / "demo")
        account = config.account("stadt-bsky")
        assert account.api_base == f"{demo.url}/bluesky"
        report = run_fetch(config, only={"stadt-bsky"})
    assert report.exit_code == 0, report.summary_lines()
    assert report.accounts[0].new == 10
