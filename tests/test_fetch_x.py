"""Fetching an X account from the demo server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from fetch.archive import Archive
from fetch.demo.server import DemoServer
from fetch.http import Http
from fetch.run import run_fetch

from .conftest import tree_bytes, write_config

TIMELINE = r"^/x/2/users/\d+/tweets$"
LOOKUP = r"^/x/2/users/by/username/"
TOKEN = "x-bearer-7f3a9c1e5b2d"


def _accounts(server: DemoServer, *, with_second: bool = False) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = [
        {
            "key": "stadt-x",
            "platform": "x",
            "name": "Stadt Musterstadt (X)",
            "username": "musterstadt",
            "token_env": "MUSTERSTADT_X_TOKEN",
            "api_base": f"{server.url}/x",
        }
    ]
    if with_second:
        accounts.append(
            {
                "key": "feuerwehr-x",
                "platform": "x",
                "name": "Feuerwehr Musterstadt (X)",
                "username": "fw_musterstadt",
                "token_env": "MUSTERSTADT_X_TOKEN",
                "api_base": f"{server.url}/x",
            }
        )
    return accounts


def _quick_http() -> Http:
    """Retries as configured, without really sleeping between them."""
    return Http(httpx.Client(timeout=5), retries=2, max_wait=5, sleep=lambda seconds: None)


def _env(token: str = TOKEN) -> dict[str, str]:
    return {"MUSTERSTADT_X_TOKEN": token}


def _posts(config: Any) -> dict[str, Any]:
    return {p.native_id: p for p in Archive(config.archive_dir).iter_posts("stadt-x")}


def test_first_run_archives_posts_threads_quotes_and_reposts_but_no_replies_to_citizens(
    tmp_path: Path, server: DemoServer
) -> None:
    """Every own post arrives once, keyed by its first edit id; the citizen's words never."""
    config = write_config(tmp_path, server, accounts=_accounts(server))
    report = run_fetch(config, environ=_env())
    account = report.accounts[0]
    assert account.status == "ok", report.summary_lines()
    posts = _posts(config)
    demo = server.x
    expected = {
        demo.ids(post["key"])[0]
        for post in demo.accounts[0]["posts"]
        if not post.get("reply_to_citizen")
    }
    assert set(posts) == expected
    citizen = demo.ids("buergerfrage")[0]
    assert citizen not in posts

    thread = [demo.ids(k)[0] for k in ("haushalt-1", "haushalt-2", "haushalt-3")]
    assert posts[thread[1]].reply_to == f"x:stadt-x:{thread[0]}"
    assert posts[thread[2]].reply_to == f"x:stadt-x:{thread[1]}"
    repost = posts[demo.ids("feuerwehr-repost")[0]]
    assert repost.repost_of is not None and repost.repost_of.handle == "@fw_musterstadt"
    quote = posts[demo.ids("feuerwehr-zitat")[0]].quote
    assert quote is not None and "Warntag" in quote.text_html and not quote.unavailable
    long_post = posts[demo.ids("wahl")[0]]
    assert "Samstag, 7. November" in long_post.text_html, "the note_tweet is shown whole"

    edited = posts[demo.ids("freibad")[0]]
    assert edited.edited == "2026-08-06T07:41:00+00:00"
    assert edited.published == "2026-08-06T07:30:00+00:00"
    assert "21:30 Uhr" in edited.text_html
    assert edited.url.endswith(demo.ids("freibad")[-1])

    storm = posts[demo.ids("sturm")[0]]
    assert storm.media[0].alt.startswith("Ein umgestürzter Ahorn")
    variant = config.archive_dir / "media" / storm.media[0].variants[-1].path
    with Image.open(variant) as image:
        assert not image.getexif(), "no EXIF (and no GPS position) survives re-hosting"
    video = posts[demo.ids("bauhof-video")[0]].media[0]
    assert video.kind == "video" and video.variants and video.url.startswith("https://x.com/")

    archived = "".join(p.read_text(encoding="utf-8") for p in config.archive_dir.rglob("*.json"))
    assert "Radweg an der Lindenallee" not in archived and "erika_beispiel" not in archived
    for post in posts.values():
        assert "t.co/" not in post.text_html
        assert "utm_" not in post.text_html and "mtm_" not in post.text_html

    # 10 own posts on the page plus 4 posts in includes (the thread's parents, the fire
    # brigade's post, the citizen's question): X bills every one of them.
    assert account.extra == {"x_posts_read": 14, "x_users_read": 1}
    assert "x_posts_read 14" in report.summary_lines()[0]
    request = server.requests_to(TIMELINE)[0]
    assert request.query["max_results"] == ["100"]
    assert "note_tweet" in request.query["tweet.fields"][0]
    assert request.query["expansions"] == [
        "attachments.media_keys,referenced_tweets.id,referenced_tweets.id.author_id"
    ]


def test_second_run_with_nothing_new_changes_no_byte_and_reads_no_post(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    run_fetch(config, environ=_env())
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].status == "ok"
    assert tree_bytes(config.archive_dir) == before
    assert report.accounts[0].requests == 1, "the user id is kept in the state"
    assert report.accounts[0].extra == {"x_posts_read": 0}
    (request,) = server.requests_to(TIMELINE)
    assert request.query["since_id"] == [server.x.ids("bauhof-video")[-1]]
    assert not server.requests_to(LOOKUP) and not server.requests_to("^/media/")


def test_an_edit_replaces_the_earlier_version_under_the_first_id(
    tmp_path: Path, server: DemoServer
) -> None:
    """X gives the edit a new id; the archive keeps one post and the old text in history."""
    config = write_config(tmp_path, server, accounts=_accounts(server))
    run_fetch(config, environ=_env())
    first = server.x.ids("bauhof-video")[0]
    # Edits are possible for 30 minutes, so the new version is newer than anything a run saw.
    server.x.edit_post(
        "bauhof-video",
        at="2026-11-05T13:20:00Z",
        text="Der Winterdienst ist bereit: 15 Streufahrzeuge, 1.800 Tonnen Salz.",
    )
    report = run_fetch(config, environ=_env())
    assert (report.accounts[0].new, report.accounts[0].updated) == (0, 1)
    post = _posts(config)[first]
    assert "15 Streufahrzeuge" in post.text_html
    assert post.edited == "2026-11-05T13:20:00+00:00"
    assert post.published == "2026-11-05T13:00:00+00:00"
    assert post.url.endswith(server.x.ids("bauhof-video")[-1])
    history = list((config.archive_dir / "history" / "stadt-x" / first).glob("*.json"))
    assert len(history) == 1
    assert "14 Streufahrzeuge" in history[0].read_text(encoding="utf-8")
    assert len(_posts(config)) == len(server.x.accounts[0]["posts"]) - 1  # still no duplicate


def test_first_run_pages_back_and_later_runs_page_through_everything_new(
    tmp_path: Path, server: DemoServer
) -> None:
    """pagination_token on the first run; since_id with pagination_token when >100 are new."""
    for n in range(110):
        server.x.add_post(
            "musterstadt",
            {
                "key": f"alt-{n}",
                "at": f"2026-05-0{1 + n // 60}T{n % 24:02d}:{n % 60:02d}:00Z",
                "text": f"Ältere Meldung {n}",
            },
        )
    config = write_config(tmp_path, server, accounts=_accounts(server))
    run_fetch(config, environ=_env())
    requests = server.requests_to(TIMELINE)
    assert len(requests) == 2 and "pagination_token" in requests[1].query
    assert len(_posts(config)) == 110 + 9
    for n in range(130):
        server.x.add_post(
            "musterstadt",
            {
                "key": f"neu-{n}",
                "at": f"2026-11-2{n // 60}T{n % 24:02d}:{n % 60:02d}:30Z",
                "text": f"Neue Meldung {n}",
            },
        )
    server.log.clear()
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].new == 130
    requests = server.requests_to(TIMELINE)
    assert len(requests) == 2
    assert all("since_id" in r.query for r in requests)
    assert "pagination_token" in requests[1].query


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            "X rejected the bearer token",
        ),
        (
            403,
            {
                "client_id": "29123456",
                "detail": "When authenticating requests to the Twitter API v2 endpoints, you must "
                "use keys and tokens from a Twitter developer App that is attached to a Project.",
                "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
                "title": "Client Forbidden",
                "required_enrollment": "Appropriate Level of API Access",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            },
            "attach the app to a project",
        ),
    ],
    ids=["revoked-token", "client-not-enrolled"],
)
def test_a_refused_token_names_the_account_and_the_fix_and_other_accounts_still_update(
    tmp_path: Path, server: DemoServer, status: int, body: dict[str, Any], expected: str
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server, with_second=True))
    server.fail(LOOKUP, status, body=json.dumps(body), headers={"Content-Type": "application/json"})
    report = run_fetch(config, environ=_env())
    failed, other = report.accounts
    assert failed.key == "stadt-x" and failed.status == "failed"
    assert f"HTTP {status}" in failed.error and expected in failed.error
    assert "docs/plattformen/x.md" in failed.error
    assert other.status == "ok" and other.new == 1
    assert "stadt-x" in "\n".join(report.summary_lines())
    assert not (config.archive_dir / "posts" / "stadt-x").exists()


def test_a_wrong_token_is_a_401_from_the_demo_and_the_right_one_works(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The token travels in the Authorization header only: never a URL, a log or the archive."""
    server.x.token = TOKEN
    config = write_config(tmp_path, server, accounts=_accounts(server))
    report = run_fetch(config, environ={})
    assert report.accounts[0].status == "failed"
    assert "MUSTERSTADT_X_TOKEN" in report.accounts[0].error
    report = run_fetch(config, environ=_env("x-bearer-wrong-0000"))
    assert report.accounts[0].status == "failed" and "HTTP 401" in report.accounts[0].error
    caplog.set_level(logging.DEBUG)
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].status == "ok"
    assert server.requests_to(TIMELINE)[-1].headers["authorization"] == f"Bearer {TOKEN}"
    assert all(TOKEN not in r.path and TOKEN not in str(r.query) for r in server.log)
    assert TOKEN not in caplog.text
    for path in config.archive_dir.rglob("*"):
        if path.is_file() and path.suffix == ".json":
            assert TOKEN not in path.read_text(encoding="utf-8"), path


def test_a_429_waits_until_x_rate_limit_reset(tmp_path: Path, server: DemoServer) -> None:
    """X gives the reset as a Unix time in x-rate-limit-reset (with a hyphen)."""
    waits: list[float] = []
    http = Http(httpx.Client(timeout=5), retries=2, max_wait=120, sleep=waits.append)
    config = write_config(tmp_path, server, accounts=_accounts(server))
    reset = int(time.time()) + 60
    server.fail(
        TIMELINE,
        429,
        body='{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank"}',
        headers={
            "Content-Type": "application/json",
            "x-rate-limit-limit": "1500",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    report = run_fetch(config, http=http, environ=_env())
    assert report.accounts[0].status == "ok"
    assert len(waits) == 1 and 50 < waits[0] <= 61, waits
    assert len(server.requests_to(TIMELINE)) == 2


def test_an_exhausted_window_on_a_success_waits_before_the_next_request(
    tmp_path: Path, server: DemoServer
) -> None:
    waits: list[float] = []
    http = Http(httpx.Client(timeout=5), retries=2, max_wait=120, sleep=waits.append)
    config = write_config(tmp_path, server, accounts=_accounts(server))
    server.fail(
        LOOKUP,
        200,
        body='{"data":{"id":"1390000000000000001","name":"Stadt Musterstadt",'
        '"username":"musterstadt"}}',
        headers={
            "Content-Type": "application/json",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time()) + 30),
        },
    )
    report = run_fetch(config, http=http, environ=_env())
    assert report.accounts[0].status == "ok"
    assert len(waits) == 1 and 20 < waits[0] <= 31, waits


def test_a_rate_limit_longer_than_max_wait_fails_the_account_without_waiting(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server), fetch={"max_wait": 5})
    server.fail(
        TIMELINE,
        429,
        headers={"x-rate-limit-reset": str(int(time.time()) + 900)},
        times=5,
    )
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].status == "failed"
    assert "rate limited" in report.accounts[0].error
    assert len(server.requests_to(TIMELINE)) == 1


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (
            503,
            b'{"title":"Service Unavailable"}',
            {"Content-Type": "application/json"},
            "server error",
        ),
        (200, b'{"data": [{"id": "1", ', {"Content-Type": "application/json"}, "malformed JSON"),
        (200, b"<html>Wartung</html>", {"Content-Type": "text/html"}, "expected JSON"),
        (200, b'{"data": {"id": "1"}}', {"Content-Type": "application/json"}, "list of posts"),
    ],
    ids=["5xx", "truncated-json", "html", "wrong-shape"],
)
def test_a_broken_answer_fails_the_account_and_loses_nothing(
    tmp_path: Path,
    server: DemoServer,
    status: int,
    body: bytes,
    headers: dict[str, str],
    expected: str,
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server, with_second=True))
    run_fetch(config, environ=_env())
    http = _quick_http()
    server.x.add_post(
        "musterstadt", {"key": "neu", "at": "2026-11-21T08:00:00Z", "text": "Neue Meldung"}
    )
    before = tree_bytes(config.archive_dir)
    server.fail(
        r"^/x/2/users/1390000000000000001/tweets$", status, body=body, headers=headers, times=10
    )
    report = run_fetch(config, http=http, environ=_env())
    x_report, other = report.accounts
    assert x_report.status == "failed" and expected in x_report.error
    assert other.status == "ok"
    assert tree_bytes(config.archive_dir) == before
    server.faults.clear()
    report = run_fetch(config, http=http, environ=_env())
    assert report.accounts[0].new == 1, "the platform is back: the new post arrives"


def test_a_quoted_post_that_is_gone_is_marked_and_its_repost_keeps_the_text(
    tmp_path: Path, server: DemoServer
) -> None:
    server.x.deleted.add("fw-warntag")
    config = write_config(tmp_path, server, accounts=_accounts(server))
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].status == "ok"
    posts = _posts(config)
    quote = posts[server.x.ids("feuerwehr-zitat")[0]].quote
    assert quote is not None and quote.unavailable == "gelöscht" and not quote.text_html
    repost = posts[server.x.ids("feuerwehr-repost")[0]]
    assert repost.repost_of is not None and repost.repost_of.handle == "@fw_musterstadt"
    assert "bundesweiter Warntag" in repost.text_html and "RT @" not in repost.text_html
