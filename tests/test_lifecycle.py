"""Edits, deletions, takedowns, the audit log, the drop guard and the status page, end to end:
the demo server plays the platform on 127.0.0.1, the site is built with mkdocs and read back."""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fetch.archive import Archive, slug
from fetch.cli import main
from fetch.demo.server import DemoServer, Request, Response
from fetch.lifecycle import (
    AUDIT_FILE,
    LAST_BUILD_FILE,
    AuditEntry,
    AuditLog,
    PublishDropError,
    check_publish_drop,
    deleted_path,
    is_taken_down,
)
from fetch.model import Post
from fetch.run import run_fetch
from fetch.site.build import build_site, load_posts
from fetch.site.status import status_pages

from .conftest import STADT, tree_bytes, write_config

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
STATUS_ENDPOINT = r"/mastodon/musterstadt\.social/api/v1/statuses/{}$"


def clock() -> datetime:
    return NOW


def no_wait(seconds: float) -> None:
    pass


SITE = {"title": "Aushang Musterstadt", "language": "de", "url": "https://aushang.musterstadt.de/"}


def stadt_config(folder: Path, server: DemoServer, **extra: Any) -> Any:
    """Musterstadt's main account; with a site URL, so that mkdocs writes a sitemap."""
    return write_config(folder, server, accounts=[dict(STADT)], site=SITE, **extra)


def new_post(
    native_id: str, days_ago: float, text: str, seeds: tuple[str, ...] = ()
) -> dict[str, Any]:
    at = (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    post: dict[str, Any] = {"id": native_id, "at": at, "lang": "de", "text": text}
    if seeds:
        post["images"] = [{"seed": seed, "alt": f"Bild {seed}"} for seed in seeds]
    return post


def site_files(site_dir: Path) -> dict[str, str]:
    """Every file of the built site but images, gzip unpacked (sitemap.xml.gz, the search
    index's fragments), as lower-case text, by relative path."""
    files = {}
    for path in site_dir.rglob("*"):
        if not path.is_file() or path.suffix in (".webp", ".png", ".jpg", ".woff2", ".ico"):
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8", errors="replace").lower()
        files[path.relative_to(site_dir).as_posix()] = text
    return files


def search_index(site_dir: Path) -> str:
    """The text of the site's search index (whatever engine builds it)."""
    return " ".join(
        text
        for name, text in site_files(site_dir).items()
        if "search" in name or "pagefind" in name
    )


def media_paths(post: Post) -> set[str]:
    items = list(post.media) + ([post.card.image] if post.card and post.card.image else [])
    return {variant.path for item in items for variant in item.variants}


def assert_not_on_site(site_dir: Path, post: Post, unique_text: str) -> None:
    """Page, listings, search index, feeds, sitemap: no file mentions the post any more."""
    page = f"beitrag/{post.account}/{slug(post.native_id)}/"
    assert not (site_dir / page).exists(), page
    files = site_files(site_dir)
    assert "sitemap.xml" in files
    for name, text in files.items():
        assert unique_text.lower() not in text, f"{unique_text!r} still in {name}"
        assert page not in text, f"{page} still linked from {name}"
        assert post.url.lower() not in text, f"{post.url} still in {name}"


# -- edits ----------------------------------------------------------------------------------------
def test_an_edit_updates_the_site_with_bearbeitet_and_keeps_the_old_version_only_in_the_archive(
    tmp_path: Path, server: DemoServer
) -> None:
    """The site shows the new text, 'bearbeitet' and the edit date; history/ keeps the old one."""
    server.mastodon.add_post(
        "stadt", new_post("112500000000000001", 1, "Erste Fassung Quittenbaum")
    )
    config = stadt_config(tmp_path, server)
    assert run_fetch(config, clock=clock).exit_code == 0
    server.mastodon.edit_post(
        "112500000000000001",
        text="Zweite Fassung Mirabellenbaum",
        edited_at="2026-11-27T09:30:00Z",
    )
    report = run_fetch(config, clock=clock)
    assert report.accounts[0].updated == 1
    archive = Archive(config.archive_dir)
    post = archive.load_post("stadt", "112500000000000001")
    assert post is not None and post.edited == "2026-11-27T09:30:00+00:00"
    history = list((config.archive_dir / "history" / "stadt" / "112500000000000001").glob("*.json"))
    assert len(history) == 1 and "Quittenbaum" in history[0].read_text(encoding="utf-8")

    build_site(config)
    page = (config.site_dir / "beitrag/stadt/112500000000000001/index.html").read_text("utf-8")
    assert "Mirabellenbaum" in page
    assert re.search(r"bearbeitet\s*<time[^>]*>27\. November 2026, 10:30 Uhr", page), page
    for name, text in site_files(config.site_dir).items():
        assert "quittenbaum" not in text, f"the earlier version is published in {name}"
    assert "mirabellenbaum" in search_index(config.site_dir)


# -- deletions ------------------------------------------------------------------------------------
def test_a_deleted_post_leaves_page_listings_search_feeds_sitemap_and_its_own_media(
    tmp_path: Path, server: DemoServer
) -> None:
    """Only the media no other post uses are dropped; the post waits in deleted/ with a reason."""
    server.mastodon.add_post(
        "stadt",
        new_post("112500000000000001", 2, "Bald gelöscht Schlehdorn", ("lc-geteilt", "lc-nur-a")),
    )
    server.mastodon.add_post(
        "stadt", new_post("112500000000000002", 1, "Bleibt stehen Holunder", ("lc-geteilt",))
    )
    config = stadt_config(tmp_path, server)
    run_fetch(config, clock=clock)
    archive = Archive(config.archive_dir)
    doomed = archive.load_post("stadt", "112500000000000001")
    kept = archive.load_post("stadt", "112500000000000002")
    assert doomed is not None and kept is not None
    build_site(config)
    assert (config.site_dir / "beitrag/stadt/112500000000000001/index.html").exists()
    only_doomed = media_paths(doomed) - media_paths(kept)
    shared = media_paths(doomed) & media_paths(kept)
    assert only_doomed and shared
    assert all((config.site_dir / "media" / p).exists() for p in only_doomed | shared)
    before = site_files(config.site_dir)
    assert "schlehdorn" in search_index(config.site_dir), "the search index holds post texts"
    assert any("schlehdorn" in text for name, text in before.items() if "feed" in name)
    assert "beitrag/stadt/112500000000000001/" in before["sitemap.xml"]

    server.mastodon.remove_post("112500000000000001")
    report = run_fetch(config, clock=clock)
    assert report.exit_code == 0
    assert report.accounts[0].deleted == 1
    assert archive.load_post("stadt", "112500000000000001") is None
    assert not archive.raw_path("stadt", "112500000000000001").exists()
    record = json.loads(deleted_path(archive, "stadt", "112500000000000001").read_bytes())
    assert record["post"]["native_id"] == "112500000000000001"
    assert record["raw"]["id"] == "112500000000000001"
    assert "not found" in record["reason"] and record["deleted_at"] == NOW.isoformat()
    audit = [
        json.loads(line) for line in (config.archive_dir / AUDIT_FILE).read_text().splitlines()
    ]
    assert [(e["action"], e["post"]) for e in audit] == [
        ("deleted", "mastodon:stadt:112500000000000001")
    ]
    assert audit[0]["sha256"] and "Schlehdorn" not in json.dumps(audit)

    build_site(config)
    assert_not_on_site(config.site_dir, doomed, "Schlehdorn")
    assert not any((config.site_dir / "media" / p).exists() for p in only_doomed)
    assert all((config.site_dir / "media" / p).exists() for p in shared)
    assert "Holunder" in (config.site_dir / "index.html").read_text("utf-8")
    for folder in (config.site_dir, tmp_path / "build"):
        assert not list(folder.rglob(AUDIT_FILE)), "the audit log must never be published"
        assert not list(folder.rglob("deleted")), "deleted posts must never be published"

    # Undo: the post comes back with its raw payload, and the audit log says so.
    assert main(["--config", str(config.path), "restore", "mastodon:stadt:112500000000000001"]) == 0
    assert archive.load_post("stadt", "112500000000000001") == doomed
    assert json.loads(archive.raw_path("stadt", "112500000000000001").read_bytes()) == record["raw"]
    assert "restored" in (config.archive_dir / AUDIT_FILE).read_text()


class _Slow:
    """A handler that lets one status endpoint answer slower than the client waits."""

    def __init__(self, pattern: str, seconds: float) -> None:
        self.pattern, self.seconds = re.compile(pattern), seconds

    def __call__(self, request: Request) -> Response | None:
        if self.pattern.search(request.path):
            threading.Event().wait(self.seconds)
        return None


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (500, "", {}),
        (503, "<html>Wartung</html>", {"Content-Type": "text/html", "Retry-After": "1"}),
        (429, '{"error":"Too many requests"}', {"Retry-After": "3600"}),
        (200, "<html>Anmeldung</html>", {"Content-Type": "text/html"}),
        (200, '{"error":"Record not found"}', {"Content-Type": "application/json"}),
        (401, '{"error":"The access token is invalid"}', {"Content-Type": "application/json"}),
        (403, '{"error":"This action is not allowed"}', {"Content-Type": "application/json"}),
        ("timeout", "", {}),
    ],
    ids=["500", "503-html", "429-long", "200-html", "200-error-object", "401", "403", "timeout"],
)
def test_only_a_not_found_from_the_posts_own_endpoint_deletes(
    tmp_path: Path, server: DemoServer, status: Any, body: str, headers: dict[str, str]
) -> None:
    """Gone from the listing and from the platform, but the endpoint misbehaves: kept."""
    server.mastodon.add_post("stadt", new_post("112500000000000001", 1, "Wacholder"))
    fetch = {"retries": 1} | ({"timeout": 2} if status == "timeout" else {})
    config = stadt_config(tmp_path, server, fetch=fetch)
    run_fetch(config, clock=clock, sleep=no_wait)
    before = tree_bytes(config.archive_dir)
    server.mastodon.remove_post("112500000000000001")
    endpoint = STATUS_ENDPOINT.format("112500000000000001")
    if status == "timeout":
        server.handlers.insert(0, ("/mastodon/", _Slow(endpoint, 3)))
    else:
        server.fail(endpoint, status, body=body, headers=headers, times=10)
    report = run_fetch(config, clock=clock, sleep=no_wait)
    assert report.accounts[0].status == "ok"
    assert report.accounts[0].deleted == 0
    after = tree_bytes(config.archive_dir)
    # Only the re-check cursor may move (the check stopped and goes on next run).
    assert {k: v for k, v in after.items() if not k.startswith("state/")} == {
        k: v for k, v in before.items() if not k.startswith("state/")
    }
    assert not (config.archive_dir / AUDIT_FILE).exists()


def test_an_empty_listing_is_no_evidence_and_a_found_post_is_never_deleted(
    tmp_path: Path, server: DemoServer
) -> None:
    """The listing comes back empty (a short page, a glitch): every post still exists."""
    config = stadt_config(tmp_path, server, fetch={"recheck_days": 365})
    run_fetch(config, clock=clock)
    before = tree_bytes(config.archive_dir)
    listing = r"/mastodon/musterstadt\.social/api/v1/accounts/\d+/statuses"
    server.fail(listing, 200, body="[]", headers={"Content-Type": "application/json"}, times=5)
    report = run_fetch(config, clock=clock)
    assert report.accounts[0].status == "ok"
    assert report.accounts[0].checked > 0 and report.accounts[0].deleted == 0
    assert tree_bytes(config.archive_dir) == before


def test_a_not_found_for_a_post_the_listing_just_returned_deletes_nothing(
    tmp_path: Path, server: DemoServer
) -> None:
    """The listing of this very run shows the post: a contradicting 404 is not believed."""
    config = stadt_config(tmp_path, server)
    server.mastodon.add_post("stadt", new_post("112500000000000001", 1, "Brombeere"))
    server.fail(STATUS_ENDPOINT.format("112500000000000001"), 404, times=10)
    report = run_fetch(config, clock=clock)
    assert report.accounts[0].new > 0 and report.accounts[0].deleted == 0
    assert Archive(config.archive_dir).load_post("stadt", "112500000000000001") is not None


def test_re_checks_cover_only_the_recent_window_capped_per_run_and_rotating(
    tmp_path: Path, server: DemoServer
) -> None:
    """Five recent posts, two re-checks a run: three runs cover the window; old posts never."""
    recent = [f"11250000000000000{n}" for n in range(1, 6)]
    for n, native_id in enumerate(recent):
        server.mastodon.add_post("stadt", new_post(native_id, 1 + n, f"Neu {n}"))
    config = stadt_config(tmp_path, server, fetch={"recheck_days": 14, "recheck_limit": 2})
    window = set(recent) | {"112400000000000138"}  # the demo's own post of 16 November
    endpoint = r"/api/v1/statuses/(\d+)$"
    checked_per_run: list[list[str]] = []
    run_fetch(config, clock=clock)  # the first run reads them all: nothing to re-check yet
    assert not server.requests_to(endpoint)
    for _ in range(4):
        server.log.clear()
        run_fetch(config, clock=clock)
        checked_per_run.append(
            [re.search(endpoint, r.path).group(1) for r in server.requests_to(endpoint)]  # type: ignore[union-attr]
        )
    assert all(len(run) == 2 for run in checked_per_run)
    first_three = [i for run in checked_per_run[:3] for i in run]
    assert set(first_three) == window and len(first_three) == 6
    state = json.loads((config.archive_dir / "state" / "stadt.json").read_bytes())
    assert state["recheck_after"].startswith("mastodon:stadt:")

    # A window that fits in one run leaves no cursor: a second run changes no byte.
    config = stadt_config(tmp_path, server, fetch={"recheck_days": 14, "recheck_limit": 50})
    run_fetch(config, clock=clock)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    run_fetch(config, clock=clock)
    assert len(server.requests_to(endpoint)) == len(window)
    assert tree_bytes(config.archive_dir) == before
    assert "recheck_after" not in json.loads((config.archive_dir / "state/stadt.json").read_text())


def test_the_recent_window_is_read_without_parsing_older_posts(tmp_path: Path) -> None:
    """Archive.iter_recent_posts: the posts of the window (by their own time, not a quoted
    post's), and a file not written by the archive (no peekable time) parsed whole."""
    archive = Archive(tmp_path / "archive")
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def post(native_id: str, days_ago: int, quoted_days_ago: int | None = None) -> Post:
        data: dict[str, Any] = {
            "id": f"mastodon:stadt:{native_id}",
            "platform": "mastodon",
            "account": "stadt",
            "native_id": native_id,
            "url": f"https://musterstadt.social/@stadt/{native_id}",
            "published": (now - timedelta(days=days_ago)).isoformat(),
            "text_html": "<p>Text</p>",
        }
        if quoted_days_ago is not None:
            data["quote"] = {
                "origin": {"name": "Landkreis"},
                "text_html": "<p>Zitat</p>",
                "published": (now - timedelta(days=quoted_days_ago)).isoformat(),
            }
        return Post.from_dict(data)

    for item in (post("1", 400), post("2", 3), post("3", 20, quoted_days_ago=1), post("4", 14)):
        archive.save_post(item, {})
    compact = post("5", 900).to_dict()
    (archive.root / "posts" / "stadt" / "5.json").write_text(json.dumps(compact))
    since = now - timedelta(days=14)
    recent = [p.native_id for p in archive.iter_recent_posts("stadt", since)]
    assert recent == ["2", "4", "5"]  # "5": parsed whole, its own time judged by the caller
    assert sorted(p.native_id for p in archive.iter_posts("stadt")) == ["1", "2", "3", "4", "5"]


def test_re_checks_can_be_switched_off(tmp_path: Path, server: DemoServer) -> None:
    config = stadt_config(tmp_path, server, fetch={"recheck_limit": 0})
    run_fetch(config, clock=clock)
    assert not server.requests_to(r"/api/v1/statuses/\d+$")


# -- takedown -------------------------------------------------------------------------------------
def test_a_takedown_leaves_every_part_of_the_site_and_the_fetch_never_brings_it_back(
    tmp_path: Path, server: DemoServer
) -> None:
    """By id or by the original URL (tracking parameters and all), whatever the platform says."""
    server.mastodon.add_post(
        "stadt", new_post("112500000000000001", 2, "Zurückgezogen Eberesche", ("lc-td-a",))
    )
    server.mastodon.add_post(
        "stadt", new_post("112500000000000002", 1, "Zurückgezogen Kornelkirsche")
    )
    config = stadt_config(tmp_path, server)
    run_fetch(config, clock=clock)
    archive = Archive(config.archive_dir)
    by_id = archive.load_post("stadt", "112500000000000001")
    by_url = archive.load_post("stadt", "112500000000000002")
    assert by_id is not None and by_url is not None
    build_site(config)
    takedown = [by_id.id, by_url.url + "?utm_source=mastodon&utm_medium=social"]
    config = stadt_config(tmp_path, server, takedown=takedown)

    server.mastodon.edit_post("112500000000000001", text="Neue Fassung Eberesche")
    # Without its cursor the account is read from the start: the listing returns both again.
    (config.archive_dir / "state" / "stadt.json").unlink()
    report = run_fetch(config, clock=clock)
    assert report.accounts[0].withheld == 2 and report.accounts[0].updated == 0
    assert archive.load_post("stadt", "112500000000000001") == by_id, "never updated"
    audit = (config.archive_dir / AUDIT_FILE).read_text().splitlines()
    assert sorted(json.loads(line)["post"] for line in audit) == sorted([by_id.id, by_url.id])
    assert all(json.loads(line)["action"] == "takedown" for line in audit)
    run_fetch(config, clock=clock)
    assert len((config.archive_dir / AUDIT_FILE).read_text().splitlines()) == 2, "logged once"

    build_site(config)
    assert_not_on_site(config.site_dir, by_id, "Eberesche")
    assert_not_on_site(config.site_dir, by_url, "Kornelkirsche")
    assert not any((config.site_dir / "media" / p).exists() for p in media_paths(by_id))

    # Taking the entry out of the list publishes the post again: the archive kept it.
    config = stadt_config(tmp_path, server)
    assert any(p.id == by_id.id for p in load_posts(config))


def test_takedown_matching_ignores_tracking_parameters_and_trailing_slashes() -> None:
    post = Post(
        id="mastodon:stadt:1",
        platform="mastodon",
        account="stadt",
        native_id="1",
        url="https://musterstadt.social/@stadt/1",
        published="2026-11-01T00:00:00+00:00",
    )
    assert is_taken_down(post, ("https://musterstadt.social/@stadt/1/?utm_campaign=x",))
    assert is_taken_down(post, ("mastodon:stadt:1",))
    assert not is_taken_down(post, ("https://musterstadt.social/@stadt/10",))
    assert not is_taken_down(post, ())


# -- audit log ------------------------------------------------------------------------------------
def test_the_audit_log_prunes_lines_older_than_the_retention_and_holds_no_content(
    tmp_path: Path,
) -> None:
    moments = iter([NOW, NOW + timedelta(days=100), NOW + timedelta(days=731)])
    current = [NOW]

    def audit_clock() -> datetime:
        return current[0]

    audit = AuditLog(tmp_path / AUDIT_FILE, retention_days=730, clock=audit_clock)
    post = Post(
        id="mastodon:stadt:1",
        platform="mastodon",
        account="stadt",
        native_id="1",
        url="https://musterstadt.social/@stadt/1",
        published="2026-11-01T00:00:00+00:00",
        text_html="<p>Geheimer Inhalt</p>",
    )
    for moment in moments:
        current[0] = moment
        audit.append([AuditEntry.for_post(post, action="deleted", reason="test", at=moment)])
    dates = [entry["at"] for entry in audit.entries()]
    assert dates == [
        (NOW + timedelta(days=100)).isoformat(),
        (NOW + timedelta(days=731)).isoformat(),
    ]
    assert "Geheimer" not in (tmp_path / AUDIT_FILE).read_text()


# -- drop guard -----------------------------------------------------------------------------------
def test_a_sharp_drop_in_published_posts_refuses_the_build_until_allowed(
    tmp_path: Path, server: DemoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """An instance answering 404 for every post (a bug, a moved account) must not empty the site."""
    config = write_config(tmp_path, server, fetch={"recheck_days": 400})
    run_fetch(config, clock=clock)
    build_site(config)
    record = json.loads((config.archive_dir / LAST_BUILD_FILE).read_bytes())
    published = record["published"]
    assert published > 10
    index_before = (config.site_dir / "index.html").read_bytes()

    server.fail(r"/api/v1/statuses/\d+$", 404, body='{"error":"Record not found"}', times=10**6)
    report = run_fetch(config, clock=clock)
    assert sum(a.deleted for a in report.accounts) == published
    with pytest.raises(PublishDropError, match=r"refusing to build: 0 posts .* --allow-drop"):
        build_site(config)
    assert (config.site_dir / "index.html").read_bytes() == index_before, "nothing deployed"

    assert main(["--config", str(config.path), "build"]) == 1
    assert "--allow-drop" in capsys.readouterr().err
    assert main(["--config", str(config.path), "build", "--allow-drop"]) == 0
    assert json.loads((config.archive_dir / LAST_BUILD_FILE).read_bytes())["published"] == 0


def test_a_takedown_is_deliberate_and_no_drop(tmp_path: Path, server: DemoServer) -> None:
    config = write_config(tmp_path, server)
    run_fetch(config, clock=clock)
    archive_dir = config.archive_dir
    from fetch.lifecycle import record_build

    record_build(
        archive_dir, check_publish_drop(archive_dir, load_posts(config), max_drop_percent=20)
    )
    all_stadt = [p.id for p in Archive(archive_dir).iter_posts("stadt")]
    config = write_config(tmp_path, server, takedown=all_stadt)
    posts = load_posts(config)
    assert len(posts) < 0.8 * (len(posts) + len(all_stadt))
    check_publish_drop(archive_dir, posts, max_drop_percent=20)  # does not raise
    (archive_dir / "posts" / "feuerwehr").rename(tmp_path / "feuerwehr-weg")
    with pytest.raises(PublishDropError, match="feuerwehr 8 -> 0"):
        check_publish_drop(archive_dir, load_posts(config), max_drop_percent=10)


# -- status page ----------------------------------------------------------------------------------
def test_the_status_page_shows_stand_stale_accounts_failures_and_expiring_tokens(
    tmp_path: Path, server: DemoServer
) -> None:
    accounts = [
        dict(STADT),
        {
            "key": "feuerwehr",
            "platform": "mastodon",
            "name": "Feuerwehr Musterstadt",
            "instance": "musterstadt.social",
            "handle": "feuerwehr",
            "token_env": "FEUERWEHR_TOKEN",
        },
    ]
    config = write_config(tmp_path, server, accounts=accounts)
    run_fetch(config, clock=clock, environ={"FEUERWEHR_TOKEN": "fake-token-1"})
    state_file = config.archive_dir / "state" / "feuerwehr.json"
    state = json.loads(state_file.read_bytes())
    state["cursor"]["token_expires_at"] = (NOW + timedelta(days=5)).isoformat()
    state_file.write_text(json.dumps(state))
    later = NOW + timedelta(hours=30)
    server.required_token = "fake-token-1"  # stadt now fails: the instance wants sign-in
    report = run_fetch(config, clock=lambda: later, environ={"FEUERWEHR_TOKEN": "fake-token-1"})
    assert [a.status for a in report.accounts] == ["failed", "ok"]
    assert report.stale == [report.accounts[0]] and report.exit_code == 1

    page = status_pages(config, Counter(p.account for p in load_posts(config)), built_at=later)[
        "status.md"
    ]
    assert "Stand: <time" in page and "28. November 2026, 19:00 Uhr" in page
    assert "Einzelne Konten veraltet" in page and "stadt" in page
    assert "Zugang abgelehnt" in page
    assert "läuft bald ab" in page and "2. Dezember 2026" in page
    assert "fake-token" not in page and "HTTP 401" not in page

    # Nothing fetched for longer than stale_after_hours: the whole mirror is stalled.
    page = status_pages(config, {}, built_at=later + timedelta(days=60))["status.md"]
    assert "Daten möglicherweise veraltet" in page


def test_the_built_site_has_a_status_page_in_the_navigation(demo_site: Path) -> None:
    page = (demo_site / "status" / "index.html").read_text(encoding="utf-8")
    assert "Stand:" in page and "Abruf je Konto" in page
    # The section "Über dieses Archiv" lists it (the home page shows the top level only).
    about = (demo_site / "about" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="\.\./status/"[^>]*>(?:\s|<[^>]+>)*Status\s*<', about), "not in nav"


# -- config ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"stale_after_hours": 0}, "stale_after_hours"),
        ({"audit_retention_days": "zwei Jahre"}, "audit_retention_days"),
        ({"max_drop_percent": 150}, "max_drop_percent"),
        ({"max_drop_percent": -5}, "max_drop_percent"),
        ({"fetch": {"recheck_limit": -1}}, "fetch.recheck_limit"),
        ({"takedown": ["  "]}, "takedown[0]"),
    ],
)
def test_the_operations_keys_are_validated_with_file_and_key(
    tmp_path: Path, changes: dict[str, Any], key: str
) -> None:
    from fetch.config import parse_config
    from fetch.errors import ConfigError

    data: dict[str, Any] = {"city": "Musterstadt", "accounts": [dict(STADT)], **changes}
    with pytest.raises(ConfigError) as raised:
        parse_config(data, tmp_path / "aushang.yml")
    assert raised.value.key == key and "aushang.yml" in str(raised.value)
