"""Fetching a LinkedIn organization page from the demo server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from fetch.archive import Archive, slug
from fetch.demo.server import DemoServer
from fetch.http import Http
from fetch.run import run_fetch
from fetch.sources.linkedin import LINKEDIN_VERSION

from .conftest import tree_bytes, write_config

POSTS = r"^/linkedin/rest/posts$"
ASSETS = r"^/linkedin/rest/(images|videos)/"
TOKEN = "li-access-3e8d1f0a9c2b"


def _accounts(
    server: DemoServer, *, options: dict[str, Any] | None = None, organization: str = "98765432"
) -> list[dict[str, Any]]:
    account: dict[str, Any] = {
        "key": "stadt-linkedin",
        "platform": "linkedin",
        "name": "Stadt Musterstadt (LinkedIn)",
        "organization_id": organization,
        "token_env": "MUSTERSTADT_LINKEDIN_TOKEN",
        "api_base": f"{server.url}/linkedin",
    }
    if options:
        account["options"] = options
    other = {
        "key": "stadt-x",
        "platform": "x",
        "username": "fw_musterstadt",
        "token_env": "MUSTERSTADT_X_TOKEN",
        "api_base": f"{server.url}/x",
    }
    return [account, other]


def _env(token: str = TOKEN) -> dict[str, str]:
    return {"MUSTERSTADT_LINKEDIN_TOKEN": token, "MUSTERSTADT_X_TOKEN": "x-demo-token"}


def _posts(config: Any) -> dict[str, Any]:
    return {p.native_id: p for p in Archive(config.archive_dir).iter_posts("stadt-linkedin")}


def _quick_http() -> Http:
    return Http(httpx.Client(timeout=5), retries=2, max_wait=5, sleep=lambda seconds: None)


def test_first_run_archives_public_published_posts_with_images_downloaded_at_once(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    report = run_fetch(config, environ=_env())
    account = report.accounts[0]
    assert account.status == "ok", report.summary_lines()
    posts = _posts(config)
    demo = server.linkedin.organizations[0]["posts"]
    public = {p["id"] for p in demo if "lifecycle" not in p and "visibility" not in p}
    assert set(posts) == public and len(public) == len(demo) - 2, "no draft, no member-only post"

    request = server.requests_to(POSTS)[0]
    assert request.headers["linkedin-version"] == LINKEDIN_VERSION
    assert request.headers["x-restli-protocol-version"] == "2.0.0"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.query["author"] == ["urn:li:organization:98765432"]
    assert request.query["sortBy"] == ["LAST_MODIFIED"]

    for post in posts.values():
        path = config.archive_dir / "posts" / "stadt-linkedin" / f"{slug(post.native_id)}.json"
        assert path.exists() and ":" not in path.name, "a URN becomes a file-safe name"
        assert "lnkd.in" not in "".join(a for a in post.text_html.split('"') if "http" in a)
        for media in post.media:
            if media.kind == "image":
                assert media.variants and not media.rejected, (post.native_id, media)
    kita = posts["urn:li:share:7340000000000000001"]
    assert "lnkd.in/dKitaMS26" in kita.text_html and 'href="https://lnkd.in' not in kita.text_html
    with Image.open(config.archive_dir / "media" / kita.media[0].variants[-1].path) as image:
        assert not image.getexif(), "the GPS position of the Kita photo is gone"
    article = posts["urn:li:share:7345000000000000002"]
    assert article.card is not None
    assert article.card.url == "https://www.musterstadt.de/karriere/ausbildung-2027"
    assert article.card.image is not None and article.card.image.variants
    assert 'href="https://www.musterstadt.de/karriere/ausbildung-2027"' in article.text_html
    fair = posts["urn:li:share:7352000000000000003"]
    assert [bool(m.alt) for m in fair.media] == [True, True, False]
    assert "Stadtwerke Musterstadt" in fair.text_html and "urn:li" not in fair.text_html
    video = posts["urn:li:ugcPost:7360000000000000004"].media[0]
    assert video.kind == "video" and video.variants and "linkedin.com/feed/update" in video.url
    poll = posts["urn:li:share:7368000000000000005"].poll
    assert poll is not None and len(poll.options) == 4
    assert poll.expires_at == "2026-10-13T09:00:00+00:00"
    assert posts["urn:li:share:7375000000000000006"].edited == "2026-11-03T09:40:00+00:00"
    # Each image's download URL was asked for once and downloaded in the same run.
    assert len(server.requests_to(ASSETS)) == 7
    assert len(server.requests_to(r"^/linkedin/media/")) == 7


def test_second_run_with_nothing_new_changes_no_byte_and_asks_once(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    run_fetch(config, environ=_env())
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].status == "ok"
    assert tree_bytes(config.archive_dir) == before
    assert len(server.requests_to(POSTS)) == 1
    assert not server.requests_to(ASSETS) and not server.requests_to("/media/")


def test_an_edited_post_is_updated_and_its_old_text_kept_in_history(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    run_fetch(config, environ=_env())
    urn = "urn:li:share:7368000000000000005"
    server.linkedin.edit_post(
        urn,
        commentary="Kurze Umfrage für unsere Arbeitgeberkampagne 2027 \\(noch bis Dienstag\\) 👇",
        edited="2026-11-20T10:00:00Z",
    )
    server.log.clear()
    report = run_fetch(config, environ=_env())
    assert (report.accounts[0].new, report.accounts[0].updated) == (0, 1)
    post = _posts(config)[urn]
    assert "(noch bis Dienstag)" in post.text_html and post.edited == "2026-11-20T10:00:00+00:00"
    assert list((config.archive_dir / "history" / "stadt-linkedin" / slug(urn)).glob("*.json"))
    assert len(server.requests_to(POSTS)) == 1


def test_new_posts_beyond_one_page_are_all_fetched(tmp_path: Path, server: DemoServer) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    run_fetch(config, environ=_env())
    for n in range(60):
        server.linkedin.add_post(
            "98765432",
            {
                "id": f"urn:li:share:739000000000000{n:04d}",
                "published": f"2026-11-21T{n // 60 + 8:02d}:{n % 60:02d}:00Z",
                "commentary": f"Stellenangebot Nummer {n}",
            },
        )
    server.log.clear()
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].new == 60
    requests = server.requests_to(POSTS)
    assert [r.query["start"] for r in requests] == [["0"], ["50"]]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("expired", "the access token has expired"),
        ("revoked", "LinkedIn rejected the access token"),
        ("other-page", "r_organization_social"),
    ],
)
def test_a_refused_token_names_the_account_and_the_fix_and_other_accounts_still_update(
    tmp_path: Path, server: DemoServer, setup: str, expected: str
) -> None:
    organization = "11111111" if setup == "other-page" else "98765432"
    config = write_config(tmp_path, server, accounts=_accounts(server, organization=organization))
    if setup == "expired":
        server.linkedin.expired_tokens.add(TOKEN)
    if setup == "revoked":
        server.linkedin.token = "li-some-other-token"
    report = run_fetch(config, environ=_env())
    failed, other = report.accounts
    assert failed.key == "stadt-linkedin" and failed.status == "failed"
    assert expected in failed.error and "docs/plattformen/linkedin.md" in failed.error
    if setup == "expired":
        assert "EXPIRED_ACCESS_TOKEN" in failed.error and "HTTP 401" in failed.error
    if setup == "other-page":
        assert "ACCESS_DENIED" in failed.error and "HTTP 403" in failed.error
    assert other.status == "ok" and other.new == 1
    assert not (config.archive_dir / "posts" / "stadt-linkedin").exists()


def test_the_version_header_is_required_and_a_sunset_version_gives_a_clear_error(
    tmp_path: Path, server: DemoServer
) -> None:
    """Like the real API: no LinkedIn-Version is a 400, an inactive one a 426."""
    response = httpx.get(
        f"{server.url}/linkedin/rest/posts",
        params={"q": "author", "author": "urn:li:organization:98765432"},
        headers={"Authorization": "Bearer x"},
    )
    assert response.status_code == 400 and response.json()["code"] == "VERSION_MISSING"

    server.linkedin.oldest_version = "202609"
    config = write_config(tmp_path, server, accounts=_accounts(server))
    report = run_fetch(config, environ=_env())
    failed = report.accounts[0]
    assert failed.status == "failed" and "HTTP 426" in failed.error
    assert "NONEXISTENT_VERSION" in failed.error and "options.linkedin_version" in failed.error

    config = write_config(
        tmp_path, server, accounts=_accounts(server, options={"linkedin_version": "202611"})
    )
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].status == "ok"
    assert server.requests_to(POSTS)[-1].headers["linkedin-version"] == "202611"


@pytest.mark.parametrize(("days", "warned"), [(5, True), (-3, True), (40, False)])
def test_a_token_close_to_its_noted_expiry_is_warned_about(
    tmp_path: Path,
    server: DemoServer,
    caplog: pytest.LogCaptureFixture,
    days: int,
    warned: bool,
) -> None:
    expires = dt.date.today() + dt.timedelta(days=days)
    config = write_config(
        tmp_path, server, accounts=_accounts(server, options={"token_expires": expires})
    )
    caplog.set_level(logging.WARNING)
    report = run_fetch(config, environ=_env())
    assert report.accounts[0].status == "ok"
    warnings = [r.getMessage() for r in caplog.records if "LinkedIn access token" in r.getMessage()]
    assert bool(warnings) == warned
    if warned:
        assert "stadt-linkedin" in warnings[0] and expires.isoformat() in warnings[0]
    state = json.loads((config.archive_dir / "state" / "stadt-linkedin.json").read_text())
    assert state["cursor"]["token_expires_at"] == expires.isoformat()


def test_the_token_stays_in_the_header_and_out_of_logs_and_archive(
    tmp_path: Path, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = write_config(tmp_path, server, accounts=_accounts(server))
    run_fetch(config, environ=_env())
    assert all(TOKEN not in r.path and TOKEN not in str(r.query) for r in server.log)
    assert TOKEN not in caplog.text
    for path in config.archive_dir.rglob("*.json"):
        assert TOKEN not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (504, b"<html>Gateway Timeout</html>", {"Content-Type": "text/html"}, "server error"),
        (200, b'{"paging": {"start": 0', {"Content-Type": "application/json"}, "malformed JSON"),
        (200, b'{"paging": {}}', {"Content-Type": "application/json"}, "list of posts"),
    ],
    ids=["5xx", "truncated-json", "wrong-shape"],
)
def test_a_broken_answer_fails_the_account_and_loses_nothing(
    tmp_path: Path,
    server: DemoServer,
    status: int,
    body: bytes,
    headers: dict[str, str],
    expected: str,
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    http = _quick_http()
    run_fetch(config, http=http, environ=_env())
    server.linkedin.add_post(
        "98765432",
        {
            "id": "urn:li:share:7399000000000000001",
            "published": "2026-11-21T08:00:00Z",
            "commentary": "Neue Stelle im Standesamt",
        },
    )
    before = tree_bytes(config.archive_dir)
    server.fail(POSTS, status, body=body, headers=headers, times=10)
    report = run_fetch(config, http=http, environ=_env())
    assert report.accounts[0].status == "failed" and expected in report.accounts[0].error
    assert report.accounts[1].status == "ok"
    assert tree_bytes(config.archive_dir) == before
    server.faults.clear()
    report = run_fetch(config, http=http, environ=_env())
    assert report.accounts[0].new == 1
