"""Fetching Facebook, Instagram and Threads from the demo server over real HTTP on 127.0.0.1.

The demo server answers as Graph does (``fetch/demo/meta_api.py``): error objects with HTTP 400,
``paging.next`` URLs that carry the access token, usage headers, token endpoints. Faults are
injected with ``server.fail``; nothing of our own is mocked.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fetch.archive import Archive
from fetch.config import Config, load_config
from fetch.demo.run import demo_config, demo_environ
from fetch.demo.server import DemoServer
from fetch.http import RedactingFilter, redact, register_secret
from fetch.run import run_fetch

from .conftest import copy_project, tree_bytes, write_config

FACEBOOK_POSTS = r"/facebook/v\d+\.\d+/104857361234567/published_posts"
INSTAGRAM_MEDIA = r"/instagram/v\d+\.\d+/17841400123456789/media"
THREADS_LIST = r"/threads/v1\.0/me/threads"
ENV = {
    "MUSTERSTADT_FACEBOOK_TOKEN": "demo-token",
    "MUSTERSTADT_INSTAGRAM_TOKEN": "demo-token",
    "MUSTERSTADT_THREADS_TOKEN": "demo-token",
}


def _accounts(server: DemoServer, **instagram: str) -> list[dict[str, Any]]:
    return [
        {
            "key": "stadt-facebook",
            "platform": "facebook",
            "name": "Stadt Musterstadt (Facebook)",
            "page_id": "104857361234567",
            "token_env": "MUSTERSTADT_FACEBOOK_TOKEN",
            "api_base": f"{server.url}/facebook",
        },
        {
            "key": "stadt-instagram",
            "platform": "instagram",
            "name": "Stadt Musterstadt (Instagram)",
            "user_id": "17841400123456789",
            "token_env": "MUSTERSTADT_INSTAGRAM_TOKEN",
            "api_base": f"{server.url}/instagram",
            **instagram,
        },
        {
            "key": "stadt-threads",
            "platform": "threads",
            "name": "Stadt Musterstadt (Threads)",
            "user": "musterstadt",
            "token_env": "MUSTERSTADT_THREADS_TOKEN",
            "api_base": f"{server.url}/threads",
        },
    ]


def _config(tmp_path: Path, server: DemoServer, *keys: str) -> Config:
    """The three Meta accounts (or those named), pointing at the demo server."""
    accounts = [a for a in _accounts(server) if not keys or a["key"] in keys]
    return write_config(tmp_path, server, accounts=accounts)


def _run(config: Config, environ: dict[str, str] | None = None) -> Any:
    return run_fetch(config, environ=dict(ENV if environ is None else environ), sleep=_no_wait)


def _no_wait(seconds: float) -> None:
    pass


def _report(report: Any, key: str) -> Any:
    return next(a for a in report.accounts if a.key == key)


def _graph_error(code: int, message: str, subcode: int | None = None) -> str:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AbCdEfGhIjK"
    return json.dumps({"error": error})


def _fb_post(number: int, day: datetime) -> dict[str, Any]:
    return {
        "id": f"104857361234567_13000000000{number:05d}",
        "at": day.isoformat(),
        "status_type": "mobile_status_update",
        "text": f"Mitteilung Nummer {number} aus dem Rathaus.",
    }


def test_first_run_archives_every_post_with_media_and_clean_links(
    tmp_path: Path, server: DemoServer
) -> None:
    """All demo posts arrive with their raw payload, images re-hosted, no tracker left."""
    config = _config(tmp_path, server)
    report = _run(config)
    assert report.exit_code == 0, report.summary_lines()
    archive = Archive(config.archive_dir)
    for key, platform in (
        ("stadt-facebook", "facebook"),
        ("stadt-instagram", "instagram"),
        ("stadt-threads", "threads"),
    ):
        posts = list(archive.iter_posts(key))
        expected = len(getattr(server.meta, platform)["posts"])
        assert len(posts) == expected == _report(report, key).new
        for post in posts:
            assert archive.raw_path(key, post.native_id).exists()
            for media in post.media:
                assert not media.rejected, (post.id, media.rejected)
                if media.source:
                    assert media.variants, post.id
            shown = " ".join([post.url, post.text_html, post.card.url if post.card else ""])
            for tracker in ("utm_", "fbclid", "igsh", "l.facebook.com", "xmt="):
                assert tracker not in shown, (post.id, tracker)
    album = archive.load_post("stadt-facebook", "104857361234567_1220419730000202")
    assert album is not None and len(album.media) == 4
    assert [bool(m.alt) for m in album.media] == [True, True, False, False]
    assert all("w=1600" in m.source for m in album.media), "the full-size rendition"
    assert not any("Kann ein Bild" in m.alt for m in album.media), "no automatic alt text"
    assert len(server.requests_to(r"/facebook/v[^/]+/$")) == 2, "one photo lookup per post"
    link = archive.load_post("stadt-facebook", "104857361234567_1220419730000303")
    assert link is not None and link.card is not None
    assert link.card.url == "https://www.musterstadt.de/ferienpass"
    assert link.card.image is not None and link.card.image.variants
    carousel = archive.load_post("stadt-threads", "18060000000000303")
    assert carousel is not None
    assert [bool(m.alt) for m in carousel.media] == [True, True, False]
    repost = archive.load_post("stadt-threads", "18060000000000505")
    assert repost is not None and repost.repost_of is not None
    assert repost.repost_of.handle == "@feuerwehr.musterstadt"


def test_second_run_with_nothing_new_changes_no_byte_and_asks_once_per_account(
    tmp_path: Path, server: DemoServer
) -> None:
    """One list request per account, no token check (it is daily), no media, zero bytes."""
    config = _config(tmp_path, server)
    _run(config)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = _run(config)
    assert report.exit_code == 0, report.summary_lines()
    assert tree_bytes(config.archive_dir) == before
    assert [a.requests for a in report.accounts] == [1, 1, 1]
    assert [a.new for a in report.accounts] == [0, 0, 0]
    assert not server.requests_to("/media/")
    assert not server.requests_to("debug_token|refresh_access_token")


def test_paging_follows_cursors_and_a_later_run_reads_only_what_is_new(
    tmp_path: Path, server: DemoServer
) -> None:
    """More than a page on the first run and on a later one; paging.next is never followed
    as a URL (it carries the token), only its cursor."""
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    for number in range(40):
        server.meta.add_post("facebook", _fb_post(number, start + timedelta(hours=number)))
    config = _config(tmp_path, server, "stadt-facebook")
    report = _run(config)
    assert _report(report, "stadt-facebook").new == 46
    pages = server.requests_to(FACEBOOK_POSTS)
    assert len(pages) == 2
    assert "after" not in pages[0].query and pages[1].query.get("after")
    assert all("access_token" not in r.query for r in pages)
    assert all(r.headers["authorization"] == "Bearer demo-token" for r in pages)

    later = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    for number in range(100, 130):
        server.meta.add_post("facebook", _fb_post(number, later + timedelta(minutes=number)))
    server.log.clear()
    report = _run(config)
    facebook = _report(report, "stadt-facebook")
    assert (facebook.new, facebook.unchanged) == (30, 0)
    assert len(server.requests_to(FACEBOOK_POSTS)) == 2, "30 new posts need two pages of 25"
    ids = Archive(config.archive_dir).native_ids("stadt-facebook")
    assert {f"104857361234567_13000000000{n:05d}" for n in range(100, 130)} <= ids
    state = (config.archive_dir / "state" / "stadt-facebook.json").read_text(encoding="utf-8")
    assert "http" not in state and "after" not in state and "demo-token" not in state


def test_expired_token_names_account_and_docs_and_the_others_still_update(
    tmp_path: Path, server: DemoServer
) -> None:
    """Graph error 190/463 (HTTP 400) is an auth error that says what to do, in German too."""
    server.meta.tokens.add("old-facebook-token")
    server.meta.expired_tokens.add("old-facebook-token")
    config = _config(tmp_path, server)
    report = _run(config, {**ENV, "MUSTERSTADT_FACEBOOK_TOKEN": "old-facebook-token"})
    facebook = _report(report, "stadt-facebook")
    assert facebook.status == "failed" and facebook.error_kind == "auth"
    for words in ("stadt-facebook", "190/463", "expired", "abgelaufen", "facebook.md"):
        assert words in facebook.error, (words, facebook.error)
    assert "old-facebook-token" not in facebook.error
    assert all(a.status == "ok" and a.new for a in report.accounts if a is not facebook)
    assert report.exit_code == 1
    status = json.loads((config.archive_dir / "status.json").read_text(encoding="utf-8"))
    assert "190/463" in status["stadt-facebook"]["last_error"]

    report = _run(config)  # renewed: the next run catches up
    assert _report(report, "stadt-facebook").new == len(server.meta.facebook["posts"])


@pytest.mark.parametrize(
    ("code", "subcode", "expected"),
    [
        (190, 460, "password"),
        (190, 467, "invalid"),
        (10, None, "pages_read_engagement"),
        (200, None, "pages_read_engagement"),
    ],
    ids=["password-changed", "invalid", "permission-10", "permission-200"],
)
def test_token_and_permission_errors_are_auth_errors_with_the_fix(
    tmp_path: Path, server: DemoServer, code: int, subcode: int | None, expected: str
) -> None:
    config = _config(tmp_path, server, "stadt-facebook", "stadt-threads")
    server.fail(
        FACEBOOK_POSTS,
        403 if code == 10 else 400,
        body=_graph_error(code, f"(#{code}) Error from Graph", subcode),
        headers={"Content-Type": "application/json"},
        times=5,
    )
    report = _run(config)
    facebook = _report(report, "stadt-facebook")
    assert facebook.error_kind == "auth", facebook.error
    assert expected in facebook.error and "docs/plattformen/facebook.md" in facebook.error
    assert len(server.requests_to(FACEBOOK_POSTS)) == 1, "an auth error is not retried"
    assert _report(report, "stadt-threads").status == "ok"


@pytest.mark.parametrize(
    ("code", "headers"),
    [
        (4, {"X-App-Usage": '{"call_count":100,"total_cputime":20,"total_time":31}'}),
        (17, {}),
        (
            32,
            {
                "X-Business-Use-Case-Usage": '{"104857361234567":[{"type":"pages","call_count":'
                '100,"total_cputime":12,"total_time":20,"estimated_time_to_regain_access":17}]}'
            },
        ),
        (613, {}),
    ],
    ids=["app-4", "user-17", "page-32", "hourly-613"],
)
def test_graph_rate_limits_are_reported_without_retrying(
    tmp_path: Path, server: DemoServer, code: int, headers: dict[str, str]
) -> None:
    """Graph throttles with HTTP 400/403 and a code, not 429: the next run continues."""
    config = _config(tmp_path, server, "stadt-facebook", "stadt-threads")
    server.fail(
        FACEBOOK_POSTS,
        400,
        body=_graph_error(code, f"(#{code}) Application request limit reached"),
        headers={"Content-Type": "application/json", **headers},
        times=5,
    )
    report = _run(config)
    facebook = _report(report, "stadt-facebook")
    assert facebook.error_kind == "rate_limit", facebook.error
    assert "rate limit" in facebook.error and "Abruflimit" in facebook.error
    if code == 32:
        assert "17 minutes" in facebook.error
    assert len(server.requests_to(FACEBOOK_POSTS)) == 1
    assert not (config.archive_dir / "state" / "stadt-facebook.json").exists()
    assert _report(report, "stadt-threads").status == "ok"


def test_usage_above_90_percent_stops_paging_and_the_next_run_completes(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A nearly used-up quota ends the walk after one page, the marker stays, nothing is lost."""
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    for number in range(40):
        server.meta.add_post("facebook", _fb_post(number, start + timedelta(hours=number)))
    server.meta.usage = {"call_count": 93, "total_cputime": 40, "total_time": 51}
    config = _config(tmp_path, server, "stadt-facebook")
    caplog.set_level(logging.WARNING)
    report = _run(config)
    facebook = _report(report, "stadt-facebook")
    assert facebook.status == "ok" and facebook.new == 25
    assert len(server.requests_to(FACEBOOK_POSTS)) == 1
    assert "93 % of the API quota" in caplog.text
    state = json.loads((config.archive_dir / "state" / "stadt-facebook.json").read_bytes())
    assert "newest_time" not in state["cursor"], "a cut-short walk must not move the marker"

    server.meta.usage = {"call_count": 5, "total_cputime": 2, "total_time": 3}
    report = _run(config)
    facebook = _report(report, "stadt-facebook")
    assert (facebook.new, facebook.unchanged) == (21, 25)
    assert len(Archive(config.archive_dir).native_ids("stadt-facebook")) == 46


@pytest.mark.parametrize(
    ("status", "body", "content_type", "kind"),
    [
        (500, _graph_error(2, "Service temporarily unavailable"), "application/json", "transient"),
        (502, "<html>Bad Gateway</html>", "text/html", "transient"),
        (200, '{"data": [{"id": "1", ', "application/json", "payload"),
        (200, '{"data": {"id": "1"}}', "application/json", "payload"),
        (200, "<html>Wartung</html>", "text/html", "payload"),
    ],
    ids=["graph-5xx", "proxy-5xx", "truncated-json", "data-not-a-list", "html"],
)
def test_a_broken_answer_fails_the_account_and_the_archive_stays_intact(
    tmp_path: Path,
    server: DemoServer,
    status: int,
    body: str,
    content_type: str,
    kind: str,
) -> None:
    """Never mistaken for zero posts; the next run gets what was new in between."""
    config = _config(tmp_path, server, "stadt-instagram", "stadt-threads")
    _run(config)
    server.meta.add_post(
        "instagram",
        {
            "id": "18034567890000999",
            "at": "2026-11-21T08:00:00Z",
            "shortcode": "DQnEu000999",
            "media_type": "IMAGE",
            "seed": "ig-neu",
            "caption": "Neu",
        },
    )
    before = tree_bytes(config.archive_dir)
    server.fail(
        INSTAGRAM_MEDIA, status, body=body, headers={"Content-Type": content_type}, times=10
    )
    report = _run(config)
    instagram = _report(report, "stadt-instagram")
    assert instagram.status == "failed" and instagram.error_kind == kind, instagram.error
    assert all(a.status == "ok" for a in report.accounts if a is not instagram)
    assert tree_bytes(config.archive_dir) == before
    server.faults.clear()
    assert _report(_run(config), "stadt-instagram").new == 1


def test_refused_photo_details_fall_back_to_the_attachment_image(
    tmp_path: Path, server: DemoServer
) -> None:
    server.fail(
        r"/facebook/v[^/]+/$",
        400,
        body=_graph_error(100, "(#100) Tried accessing nonexisting field (alt_text_custom)"),
        headers={"Content-Type": "application/json"},
        times=10,
    )
    config = _config(tmp_path, server, "stadt-facebook")
    report = _run(config)
    assert report.exit_code == 0, report.summary_lines()
    album = Archive(config.archive_dir).load_post(
        "stadt-facebook", "104857361234567_1220419730000202"
    )
    assert album is not None and len(album.media) == 4
    assert all("w=720" in m.source and m.variants for m in album.media)


def test_unknown_page_id_says_to_check_the_id(tmp_path: Path, server: DemoServer) -> None:
    accounts = _accounts(server)
    accounts[0]["page_id"] = "999"
    config = write_config(tmp_path, server, accounts=accounts[:1])
    report = _run(config)
    assert "Graph error 100/33" in report.accounts[0].error
    assert "check the id" in report.accounts[0].error


def test_the_token_never_reaches_a_log_the_archive_or_a_listing_url(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Bearer header for data; the two token endpoints that need it in the query are redacted,
    and a Graph message that echoes the token is redacted before it is reported."""
    secrets = {
        "MUSTERSTADT_FACEBOOK_TOKEN": "EAAGm0PX4ZCpsBAFbK7dXq2w9yTzR3vN",
        "MUSTERSTADT_INSTAGRAM_TOKEN": "IGAAKx7Lm2Qp9RsT4uVwXyZaBcDeFgHi",
        "MUSTERSTADT_THREADS_TOKEN": "THAAJq8Rt5Yu2Io9PaSdFgHjKlZxCvBn",
    }
    server.meta.tokens.update(secrets.values())
    caplog.set_level(logging.DEBUG)
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    for number in range(30):  # two pages: paging.next carries the token
        server.meta.add_post("facebook", _fb_post(number, start + timedelta(hours=number)))
    config = _config(tmp_path, server)
    report = _run(config, secrets)
    assert report.exit_code == 0, report.summary_lines()
    server.fail(
        INSTAGRAM_MEDIA,
        400,
        body=_graph_error(190, f"Malformed access token {secrets['MUSTERSTADT_INSTAGRAM_TOKEN']}"),
        headers={"Content-Type": "application/json"},
    )
    server.meta.add_post(
        "instagram",
        {
            "id": "18034567890000998",
            "at": "2026-11-21T08:00:00Z",
            "shortcode": "DQnEu000998",
            "media_type": "IMAGE",
            "seed": "ig-neu",
        },
    )
    report = _run(config, secrets)
    assert _report(report, "stadt-instagram").error_kind == "auth"
    everything = caplog.text + "\n".join(a.error for a in report.accounts)
    for path in config.archive_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".log", ""):
            everything += path.read_text(encoding="utf-8", errors="replace")
    for token in secrets.values():
        assert token not in everything
    lists = server.requests_to(f"{FACEBOOK_POSTS}|{INSTAGRAM_MEDIA}|{THREADS_LIST}")
    assert lists and all("access_token" not in r.query for r in lists)
    assert "REDACTED" in caplog.text, "the token endpoints' URLs were logged, redacted"


def test_http_redacts_graph_paging_urls_and_registered_tokens_in_log_lines() -> None:
    """The two guards every Meta request relies on (fetch.http): ``access_token`` in a URL,
    and any registered secret (``input_token`` of debug_token) in a formatted log record."""
    token = "EAAJz8Lq4RtYu7Io2PaSdFgHjKlZxCv9"
    paging_next = (
        "https://graph.facebook.com/v26.0/104857361234567/published_posts"
        f"?access_token={token}&fields=id%2Cmessage&limit=25&after=QVFIUmRtQ"
    )
    shown = redact(paging_next)
    assert token not in shown and "access_token=REDACTED" in shown and "after=QVFIUmRtQ" in shown
    register_secret(token)
    record = logging.LogRecord(
        "aushang.http",
        logging.DEBUG,
        __file__,
        1,
        "GET %s",
        (f"/debug_token?input_token={token}",),
        None,
    )
    assert RedactingFilter().filter(record)
    assert token not in record.getMessage() and "input_token=REDACTED" in record.getMessage()


def test_token_expiry_is_checked_daily_recorded_and_warned_about(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """debug_token (Facebook) and refresh_access_token (Instagram, Threads) at most once a
    day; token_expires_at lands in the state; every run warns inside 14 days."""
    server.meta.token_lifetime["facebook"] = 5 * 86400
    server.meta.data_access_lifetime = 80 * 86400
    config = _config(tmp_path, server)
    caplog.set_level(logging.WARNING)
    report = _run(config)
    assert report.exit_code == 0, report.summary_lines()
    now = datetime.now(UTC)

    def state(key: str) -> dict[str, Any]:
        data = json.loads((config.archive_dir / "state" / f"{key}.json").read_bytes())
        cursor: dict[str, Any] = data["cursor"]
        return cursor

    facebook = state("stadt-facebook")
    expires = datetime.fromisoformat(facebook["token_expires_at"])
    assert timedelta(days=4) < expires - now < timedelta(days=6)
    for key in ("stadt-instagram", "stadt-threads"):
        refreshed = datetime.fromisoformat(state(key)["token_expires_at"])
        assert timedelta(days=59) < refreshed - now < timedelta(days=61)
    assert len(server.requests_to("/facebook/v[^/]+/debug_token")) == 1
    assert len(server.requests_to("/instagram/refresh_access_token")) == 1
    assert len(server.requests_to("/threads/refresh_access_token")) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "stadt-facebook" in w and "expires on" in w and "docs/plattformen/facebook.md" in w
        for w in warnings
    ), warnings
    assert not any("stadt-instagram" in w or "stadt-threads" in w for w in warnings), warnings

    caplog.clear()
    server.log.clear()
    _run(config)
    assert not server.requests_to("debug_token|refresh_access_token"), "checked once a day"
    assert "stadt-facebook: the Facebook access token expires on" in caplog.text

    path = config.archive_dir / "state" / "stadt-facebook.json"
    data = json.loads(path.read_bytes())
    data["cursor"]["token_checked_at"] = (now - timedelta(days=1, minutes=1)).isoformat()
    path.write_text(json.dumps(data), encoding="utf-8")
    server.meta.token_lifetime["facebook"] = 0  # renewed: a token that does not expire
    server.meta.data_access_lifetime = 0
    _run(config)
    assert len(server.requests_to("/facebook/v[^/]+/debug_token")) == 1
    assert state("stadt-facebook")["token_expires_at"] is None


def test_instagram_with_facebook_login_uses_graph_facebook_and_debug_token(
    tmp_path: Path, server: DemoServer
) -> None:
    accounts = _accounts(server, login="facebook")
    config = write_config(tmp_path, server, accounts=accounts[1:2])
    assert config.accounts[0].params["login"] == "facebook"
    report = _run(config)
    assert report.exit_code == 0, report.summary_lines()
    assert server.requests_to("/instagram/v[^/]+/debug_token")
    assert not server.requests_to("refresh_access_token")
    without_base = {k: v for k, v in accounts[1].items() if k != "api_base"}
    (tmp_path / "real").mkdir()
    real = write_config(tmp_path / "real", server, accounts=[without_base])
    assert real.accounts[0].api_base == "https://graph.facebook.com"


def test_a_token_check_that_fails_does_not_fail_the_account(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Meta refuses to refresh a token younger than 24 hours: the run goes on, warns once."""
    server.fail(
        "/threads/refresh_access_token",
        400,
        body=_graph_error(10, "Token must be at least 24 hours old to refresh"),
        headers={"Content-Type": "application/json"},
    )
    config = _config(tmp_path, server, "stadt-threads")
    caplog.set_level(logging.WARNING)
    report = _run(config)
    assert _report(report, "stadt-threads").status == "ok"
    assert "stadt-threads: could not check when the token expires" in caplog.text


def test_a_token_check_hit_by_a_5xx_is_repeated_on_the_next_run(
    tmp_path: Path, server: DemoServer
) -> None:
    server.fail("/facebook/v[^/]+/debug_token", 503, body="<html>busy</html>", times=10)
    config = _config(tmp_path, server, "stadt-facebook")
    report = _run(config)
    assert report.exit_code == 0, report.summary_lines()
    state = json.loads((config.archive_dir / "state" / "stadt-facebook.json").read_bytes())
    assert "token_checked_at" not in state["cursor"]
    server.faults.clear()
    server.log.clear()
    _run(config)
    assert len(server.requests_to("debug_token")) == 1


def test_the_demo_config_fetches_all_three_with_demo_tokens(tmp_path: Path) -> None:
    """aushang.yml's Meta accounts work against the demo server without any real token."""
    folder = copy_project(tmp_path)
    config = load_config(folder / "aushang.yml")
    keys = {"stadt-facebook", "stadt-instagram", "stadt-threads"}
    assert keys <= {a.key for a in config.accounts}
    with DemoServer() as server:
        demo = demo_config(config, server.url, folder / "demo")
        environ = demo_environ(demo, {"MUSTERSTADT_FACEBOOK_TOKEN": "a-real-token-never-sent"})
        report = run_fetch(demo, only=keys, environ=environ, sleep=_no_wait)
        assert report.exit_code == 0, report.summary_lines()
        assert all(a.new for a in report.accounts)
        assert all("a-real-token" not in str(r.headers) for r in server.log)
