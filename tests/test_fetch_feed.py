"""Fetching a city website's RSS, Atom and JSON feeds from the demo server over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from fetch.archive import Archive
from fetch.demo.server import DemoServer
from fetch.http import Http
from fetch.run import run_fetch

from .conftest import tree_bytes, write_config

HOST = "www.musterstadt.de"
RSS = "/rathaus/aktuelles.rss"
ATOM = "/veranstaltungen/feed.atom"
JSON_FEED = "/buecherei/feed.json"


def _account(server: DemoServer, key: str, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "platform": "feed",
        "name": key,
        "url": f"https://{HOST}{path}",
        "api_base": f"{server.url}/feed/{HOST}",
        **extra,
    }


def _no_wait(seconds: float) -> None:
    pass


def test_first_run_archives_rss_atom_and_json_feeds(tmp_path: Path, server: DemoServer) -> None:
    """Every item becomes a post: German dates read, links absolute and clean, images re-hosted."""
    config = write_config(
        tmp_path,
        server,
        accounts=[
            _account(server, "rathaus", RSS),
            _account(server, "termine", ATOM),
            _account(server, "buecherei", JSON_FEED),
        ],
    )
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    assert [a.new for a in report.accounts] == [6, 3, 3]
    archive = Archive(config.archive_dir)
    posts = {p.native_id: p for p in archive.iter_posts()}

    freibad = posts["pm-2026-0714-freibad"]  # <pubDate>14.07.2026</pubDate>: midnight in Berlin
    assert freibad.published == "2026-07-13T22:00:00+00:00"
    assert posts["pm-2026-0820-buergerbuero"].published == "2026-08-19T22:00:00+00:00"
    assert posts["pm-2026-0915-haushalt"].published == "2026-09-15T08:30:00+00:00"  # MESZ
    # "demnächst" is no date: the item takes the feed's own date (its lastBuildDate).
    assert posts["pm-2026-1005-laub"].published == "2026-11-10T08:00:00+00:00"
    # An item without guid is known by its link, made absolute.
    assert f"https://{HOST}/rathaus/aktuelles/2026/weihnachtsmarkt-aufbau" in posts

    wasser = posts["pm-2026-0603-wasserleitung"]
    assert wasser.title == "Hauptstraße: Stadtwerke erneuern die Wasserleitung"
    assert wasser.url == f"https://{HOST}/rathaus/aktuelles/2026/wasserleitung-hauptstrasse"
    assert f'href="https://{HOST}/baustellen/hauptstrasse"' in wasser.text_html
    assert "<script" not in wasser.text_html and "trackPageView" not in wasser.text_html
    assert "utm_" not in freibad.text_html and "stadtwerke-musterstadt.de/baeder?id=freibad" in (
        freibad.text_html
    )
    # The inline photo is re-hosted with its alt text; the 1x1 counter pixel is not.
    assert [m.alt for m in freibad.media] == [
        "Der Sprungturm des Freibads vor blauem Himmel, im Becken darunter schwimmen Kinder."
    ]
    sommerfest = posts["tag:musterstadt.de,2026:veranstaltung-4711"]
    assert sommerfest.url == f"https://{HOST}/veranstaltungen/sommerfest-2026"  # xml:base
    assert f'href="https://{HOST}/veranstaltungen/programm"' in sommerfest.text_html
    denkmal = posts["tag:musterstadt.de,2026:veranstaltung-4790"]
    assert denkmal.edited == "2026-09-08T11:30:00+00:00"
    vorlesetag = posts["buecherei-2026-11-vorlesetag"]
    assert vorlesetag.url == f"https://{HOST}/buecherei/vorlesetag"
    assert vorlesetag.media[0].alt.startswith("Plakat zum Vorlesetag")

    for post in posts.values():
        assert archive.raw_path(post.account, post.native_id).exists()
        for media in post.media:
            assert media.variants and not media.rejected, (post.native_id, media)
            for variant in media.variants:
                assert (config.archive_dir / "media" / variant.path).exists()


def test_second_run_asks_conditionally_and_a_304_changes_no_byte(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(
        tmp_path,
        server,
        accounts=[
            _account(server, "rathaus", RSS),
            _account(server, "termine", ATOM),
            _account(server, "buecherei", JSON_FEED),
        ],
    )
    run_fetch(config)
    before = tree_bytes(config.archive_dir)
    server.log.clear()
    report = run_fetch(config)
    assert report.exit_code == 0
    assert [a.requests for a in report.accounts] == [1, 1, 1]
    assert [a.new + a.updated for a in report.accounts] == [0, 0, 0]
    assert tree_bytes(config.archive_dir) == before
    for request in server.requests_to("^/feed/"):
        assert request.headers.get("if-none-match", "").startswith('"')
        assert request.headers.get("if-modified-since", "").endswith("GMT")
    assert not server.requests_to("/media/")


def test_a_new_item_is_added_and_an_item_leaving_the_feed_is_kept(
    tmp_path: Path, server: DemoServer
) -> None:
    """Feeds are a window: what drops off the end was not deleted by the city."""
    config = write_config(tmp_path, server, accounts=[_account(server, "rathaus", RSS)])
    run_fetch(config)
    feed = server.website.feed(RSS)
    oldest = feed["items"].pop(0)
    server.website.add_item(
        RSS,
        {
            "guid": "pm-2026-1120-glaettedienst",
            "at": "2026-11-20T07:00:00Z",
            "date": "Fr, 20 Nov 2026 08:00:00 +0100",
            "title": "Winterdienst: Räum- und Streupflicht",
            "link": "/rathaus/aktuelles/2026/winterdienst",
            "html": "<p>Gehwege sind werktags bis 7 Uhr zu räumen.</p>",
        },
    )
    report = run_fetch(config)
    assert (report.accounts[0].new, report.accounts[0].updated) == (1, 0)
    ids = Archive(config.archive_dir).native_ids("rathaus")
    assert oldest["guid"] in ids and "pm-2026-1120-glaettedienst" in ids
    assert len(ids) == 7


def test_an_item_without_a_readable_date_keeps_its_first_seen_time(
    tmp_path: Path, server: DemoServer
) -> None:
    """Its fallback time is stored, so a rebuilt feed (a new lastBuildDate) does not move it."""
    config = write_config(tmp_path, server, accounts=[_account(server, "rathaus", RSS)])
    run_fetch(config)
    archive = Archive(config.archive_dir)
    first = archive.load_post("rathaus", "pm-2026-1005-laub")
    assert first is not None
    server.website.add_item(
        RSS,
        {
            "guid": "pm-2026-1201-neu",
            "at": "2026-12-01T07:00:00Z",
            "title": "Neu",
            "link": "/neu",
            "html": "<p>Neu</p>",
        },
    )
    report = run_fetch(config)
    assert report.accounts[0].new == 1 and report.accounts[0].updated == 0
    assert archive.load_post("rathaus", "pm-2026-1005-laub") == first
    state = json.loads(archive.state_path("rathaus").read_bytes())
    assert state["cursor"]["first_seen"] == {"pm-2026-1005-laub": first.published}


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (503, b"<html>Wartung</html>", {"Content-Type": "text/html"}, "server error"),
        (
            200,
            b'<!DOCTYPE html><html lang="de"><head><title>Aktuelles</title><link rel="alternate"'
            b' type="application/rss+xml" href="/rathaus/rss/aktuelles.xml"></head><body>'
            b"<h1>Aktuelles</h1><p>Willkommen</p></body></html>",
            {"Content-Type": "text/html; charset=utf-8"},
            "HTML page, not a feed; the page names a feed at "
            "https://www.musterstadt.de/rathaus/rss/aktuelles.xml",
        ),
        (
            200,
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>Musterstadt</ti',
            {"Content-Type": "application/rss+xml"},
            "not a readable feed",
        ),
        (200, b"", {"Content-Type": "application/rss+xml"}, "empty body"),
        (
            200,
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
            {"Content-Type": "application/feed+json"},
            "malformed JSON Feed",
        ),
    ],
    ids=["5xx", "html-page", "broken-xml", "empty", "truncated-json-feed"],
)
def test_a_broken_answer_fails_the_account_and_loses_nothing(
    tmp_path: Path,
    server: DemoServer,
    status: int,
    body: bytes,
    headers: dict[str, str],
    expected: str,
) -> None:
    """Never zero posts, never a deletion, and the next good answer is read in full."""
    config = write_config(
        tmp_path,
        server,
        accounts=[_account(server, "rathaus", RSS), _account(server, "termine", ATOM)],
    )
    run_fetch(config)
    server.website.add_item(
        RSS,
        {
            "guid": "pm-2026-1125-neu",
            "at": "2026-11-25T07:00:00Z",
            "title": "Neu",
            "link": "/neu",
            "html": "<p>Neu</p>",
        },
    )
    before = tree_bytes(config.archive_dir)
    server.fail(
        r"^/feed/www\.musterstadt\.de/rathaus/", status, body=body, headers=headers, times=10
    )
    report = run_fetch(config, sleep=_no_wait)
    rathaus, termine = report.accounts
    assert rathaus.status == "failed" and expected in rathaus.error, rathaus.error
    assert termine.status == "ok"
    assert tree_bytes(config.archive_dir) == before
    assert not any(f.name.endswith(".tmp") for f in config.archive_dir.rglob("*"))

    server.faults.clear()
    report = run_fetch(config)
    assert report.accounts[0].status == "ok" and report.accounts[0].new == 1


def test_a_silent_server_times_out_and_is_reported(
    tmp_path: Path, server: DemoServer, silent_port: int
) -> None:
    waits: list[float] = []
    http = Http(httpx.Client(timeout=0.5), retries=1, sleep=waits.append)
    account = _account(server, "rathaus", RSS)
    account["api_base"] = f"http://127.0.0.1:{silent_port}"
    config = write_config(tmp_path, server, accounts=[account])
    report = run_fetch(config, http=http)
    assert report.accounts[0].status == "failed" and "timeout" in report.accounts[0].error
    assert waits == [1.0]
    assert not (config.archive_dir / "posts").exists()
