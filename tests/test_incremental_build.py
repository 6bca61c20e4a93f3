"""The build does the work the change needs, and its result is the full build's, byte for byte.

An hourly run with nothing new reads no post and writes only the status page; a run with new,
edited and deleted posts writes their pages, their threads' and the listings that show them;
and the site it leaves is exactly the one a build from scratch makes of the same archive.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fetch.archive import Archive
from fetch.demo.server import DemoServer
from fetch.run import run_fetch
from fetch.site.build import build_site
from tests.conftest import tree_bytes, write_config

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SITE = {"title": "Aushang Musterstadt", "language": "de", "url": "https://aushang.musterstadt.de/"}
STATUS_PAGE = "status/index.html"


def clock() -> datetime:
    return NOW


def site_tree(site: Path) -> dict[str, bytes]:
    """Every file of the site but the status page, which shows the time of the build."""
    return {k: v for k, v in tree_bytes(site).items() if k != STATUS_PAGE}


def new_post(native_id: str, minutes_ago: int, text: str, **extra: Any) -> dict[str, Any]:
    at = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": native_id, "at": at, "lang": "de", "text": text, **extra}


@pytest.fixture
def built(tmp_path: Path, server: DemoServer) -> Any:
    config = write_config(tmp_path, server, site=SITE, site_dir="site")
    assert run_fetch(config, clock=clock).exit_code == 0
    report = build_site(config)
    assert report.full
    return config


def test_a_run_with_nothing_new_writes_only_the_status_page(built: Any) -> None:
    before = tree_bytes(built.site_dir)
    catalog = built.path.parent / "build" / "state" / "catalog.json"
    saved = catalog.stat().st_mtime_ns
    report = build_site(built)
    assert catalog.stat().st_mtime_ns == saved  # nothing learned, nothing rewritten
    assert not report.full
    assert report.written <= 1 and report.removed == 0  # the status page, if its minute changed
    after = tree_bytes(built.site_dir)
    assert {k for k in after if after[k] != before.get(k)} <= {STATUS_PAGE}
    assert set(after) == set(before)


def test_a_run_with_nothing_new_reads_neither_entries_nor_teasers(
    built: Any, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The two large files of the catalog are read only when posts changed: a run with
    nothing new succeeds without them. Entries that do not belong to the catalog (a run
    stopped while saving) are never used: the next run with a change builds afresh."""
    state = built.path.parent / "build" / "state"
    before = site_tree(built.site_dir)
    status = (built.site_dir / STATUS_PAGE).read_text(encoding="utf-8")
    for name in ("entries.json", "teasers.json"):
        (state / name).write_text("kaputt", encoding="utf-8")
    report = build_site(built)
    assert not report.full and report.written <= 1
    assert report.posts == len(list(built.archive_dir.glob("posts/*/*.json")))
    assert site_tree(built.site_dir) == before
    assert (built.site_dir / STATUS_PAGE).read_text(encoding="utf-8").count("<td>") == (
        status.count("<td>")
    )  # the counts per account, from the catalog
    server.mastodon.add_post("stadt", new_post("112999000000000010", 2, "Neu #Baustelle"))
    assert run_fetch(built, clock=clock).exit_code == 0
    report = build_site(built)
    assert report.full and "building afresh" in caplog.text
    fresh = site_tree(built.site_dir)
    assert "beitrag/stadt/112999000000000010/index.html" in fresh
    pages = {name for name in before if name.endswith(".html")}
    assert pages < {name for name in fresh if name.endswith(".html")}


def test_a_fresh_clone_with_new_file_times_changes_nothing(built: Any, server: DemoServer) -> None:
    before = site_tree(built.site_dir)
    later = NOW.timestamp() + 3600
    for path in (built.archive_dir / "posts").rglob("*.json"):
        os.utime(path, (later, later))
    report = build_site(built)
    assert report.written <= 1  # the status page
    assert site_tree(built.site_dir) == before
    # the catalog learned the new times without reading the teasers; the next new post still
    # finds every teaser for the listings
    server.mastodon.add_post("stadt", new_post("112999000000000008", 2, "Neu #Baustelle"))
    assert run_fetch(built, clock=clock).exit_code == 0
    build_site(built)
    incremental = site_tree(built.site_dir)
    build_site(built, full=True)
    assert _without_search(site_tree(built.site_dir)) == _without_search(incremental)


def test_new_edited_and_deleted_posts_give_the_site_a_full_build_gives(
    built: Any, server: DemoServer
) -> None:
    archive = Archive(built.archive_dir)
    posts = sorted(archive.iter_posts(), key=lambda p: p.published)
    # new posts, one of them answering the account's own newest post (a thread grows)
    newest = [p for p in posts if p.account == "stadt"][-1]
    server.mastodon.add_post(
        "stadt", new_post("112999000000000001", 5, "Neu: Sperrung der Ringstraße #Baustelle")
    )
    server.mastodon.add_post(
        "stadt",
        new_post("112999000000000002", 3, "Nachtrag: bis Freitag.", reply_to=newest.native_id),
    )
    server.mastodon.add_post(
        "feuerwehr",
        new_post(
            "112999000000000003",
            1,
            "Übung am Gerätehaus",
            images=[{"seed": "inkr", "alt": "Übung"}],
        ),
    )
    assert run_fetch(built, clock=clock).exit_code == 0
    # an edit, written as a fetch writes it
    edited = posts[len(posts) // 2]
    archive.save_post(
        dataclasses.replace(edited, text_html="<p>Geänderter Text</p>", edited=NOW.isoformat()),
        {"id": edited.native_id, "edited": True},
    )
    # a post gone from the archive (as after a deletion on the platform)
    gone = posts[3]
    archive.post_path(gone.account, gone.native_id).unlink()

    before = tree_bytes(built.site_dir)
    report = build_site(built)
    assert not report.full
    incremental = site_tree(built.site_dir)
    written = {k for k in incremental if incremental[k] != before.get(k)}
    assert f"beitrag/{edited.account}/{edited.native_id}/index.html" in written
    assert "beitrag/stadt/112999000000000002/index.html" in written
    assert f"beitrag/{gone.account}/{gone.native_id}/index.html" not in incremental
    assert "index.html" in written
    # pages of untouched posts outside the changed threads stay as they were
    untouched = [
        p for p in posts[5:-5] if p.id != edited.id and p.account == "buecherei" and not p.reply_to
    ]
    assert untouched
    for post in untouched:
        page = f"beitrag/{post.account}/{post.native_id}/index.html"
        assert page not in written

    full = build_site(built, full=True)
    assert full.full
    rebuilt = site_tree(built.site_dir)
    # pagefind names its files by hashes that differ from run to run; it indexed the same pages
    assert _without_search(rebuilt) == _without_search(incremental)
    assert report.search is not None and full.search is not None
    assert report.search.pages == full.search.pages


def _without_search(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in tree.items() if not k.startswith("pagefind/")}


def test_a_changed_page_template_or_config_builds_everything_again(built: Any) -> None:
    config_text = built.path.read_text(encoding="utf-8")
    built.path.write_text(config_text.replace("Aushang Musterstadt", "Aushang der Stadt"), "utf-8")
    from fetch.config import load_config

    report = build_site(load_config(built.path))
    assert report.full
    home = (built.site_dir / "index.html").read_text(encoding="utf-8")
    assert "Aushang der Stadt" in home


def test_media_on_another_host_are_linked_there_and_allowed_only_as_images(
    tmp_path: Path, server: DemoServer
) -> None:
    media_url = "https://medien.musterstadt.de/aushang/"
    config = write_config(tmp_path, server, site={**SITE, "media_url": media_url})
    assert run_fetch(config, clock=clock).exit_code == 0
    build_site(config)  # the privacy scan at its end accepts images from the media folder
    pages = [p.read_text("utf-8") for p in (config.site_dir / "beitrag").rglob("index.html")]
    with_images = [page for page in pages if "<img " in page]
    assert with_images
    for page in with_images:
        assert f'src="{media_url}' in page and 'src="../../../media/' not in page
        assert f"img-src 'self' data: {media_url}" in page
        assert f"script-src 'self' {media_url}" not in page
    feed = (config.site_dir / "feed" / "rss.xml").read_text("utf-8")
    assert f'url="{media_url}' in feed
    # the files to upload to the media host are still collected in site/media
    assert any((config.site_dir / "media").rglob("*.webp"))


def test_the_build_tells_the_workflow_whether_more_than_the_status_page_changed(
    built: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: DemoServer
) -> None:
    from fetch.cli import main

    output = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert main(["--config", str(built.path), "build"]) == 0
    assert output.read_text(encoding="utf-8") == "site-changed=false\n"
    server.mastodon.add_post("stadt", new_post("112999000000000009", 2, "Neu"))
    assert run_fetch(built, clock=clock).exit_code == 0
    assert main(["--config", str(built.path), "build"]) == 0
    assert output.read_text(encoding="utf-8").splitlines()[-1] == "site-changed=true"


def test_a_large_catalog_survives_saving_in_slices(tmp_path: Path) -> None:
    from fetch.site.catalog import Catalog, Entry, FileState

    catalog = Catalog(key="abc123")
    for number in range(4_500):  # more than two slices of the writer
        post_id = f"mastodon:stadt:{number}"
        catalog.files[f"stadt/{number}.json"] = FileState(10, 20, "f" * 64, post_id)
        catalog.entries[post_id] = Entry(
            id=post_id,
            file=f"stadt/{number}.json",
            account="stadt",
            platform="mastodon",
            native_id=str(number),
            published="2026-06-01T08:00:00+00:00",
            reply_to=None,
            url=f"beitrag/stadt/{number}/",
            month=(2026, 6),
            tags=["Straßenfest"],
            tag_slugs=["strassenfest"],
            media=[],
            teaser=f"<article>Übersicht {number}</article>",
        )
    catalog.manifest = {f"beitrag/stadt/{n}/index.html": "x" for n in range(4_500)}
    path = tmp_path / "catalog.json"
    catalog.save(path)
    loaded = Catalog.load(path, "abc123")
    assert loaded.files == catalog.files and loaded.manifest == catalog.manifest
    assert loaded.counts == {"stadt": 4_500}
    assert not loaded.entries_loaded and loaded.entries == {}  # read only when posts changed
    assert loaded.load_entries() and not loaded.teasers_loaded
    assert {entry.teaser for entry in loaded.entries.values()} == {""}
    loaded.load_teasers()  # read only when the listings are made
    assert loaded.entries == catalog.entries
    # another key: dropped without being read whole
    assert Catalog.load(path, "def456").files == {}
    # entries of another save (a run stopped between the files) are never mixed in
    older = (tmp_path / "entries.json").read_bytes()
    loaded.save(path)
    (tmp_path / "entries.json").write_bytes(older)
    stale = Catalog.load(path, "abc123")
    assert stale.files == catalog.files and not stale.load_entries()
