"""Mastodon, completed: edit history, pinned posts, polls, custom emoji and content warnings.

Fetches go to the demo server over real HTTP on 127.0.0.1; the site checks read a real build.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fetch.archive import Archive
from fetch.config import Config
from fetch.demo.server import DemoServer
from fetch.http import Http
from fetch.media import MediaStore
from fetch.model import Post
from fetch.run import run_fetch
from fetch.site.render import Renderer, SiteContext
from fetch.sources.base import AccountConfig, FetchContext
from fetch.sources.mastodon import MastodonSource, to_poll, to_post

from .conftest import tree_bytes, write_config

EDITED = "112400000000000109"  # the Stadtfest post: edited, with one earlier version
PINNED = "112400000000000101"
LATER = "112400000000000113"
STATUSES = r"/mastodon/musterstadt\.social/api/v1/accounts/\d+/statuses$"
HISTORY = r"/api/v1/statuses/\d+/history$"
EARLIER_TEXT = "vom 27. bis 29. Juni"  # only in the first version of the edited post
ACCOUNT = AccountConfig(
    key="stadt",
    platform="mastodon",
    name="Stadt Musterstadt",
    api_base="https://musterstadt.social",
    params={"instance": "musterstadt.social", "handle": "stadt"},
)


def _config(tmp_path: Path, server: DemoServer) -> Config:
    account = {
        "key": "stadt",
        "platform": "mastodon",
        "name": "Stadt Musterstadt",
        "instance": "musterstadt.social",
        "handle": "stadt",
    }
    return write_config(tmp_path, server, accounts=[account])


def _pinned_requests(server: DemoServer) -> list[Any]:
    return [r for r in server.requests_to(STATUSES) if r.param("pinned") == "true"]


def _make_pinned_check_due(config: Config) -> None:
    path = config.archive_dir / "state" / "stadt.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    state["cursor"]["pinned_checked_at"] = earlier.isoformat()
    path.write_text(json.dumps(state), encoding="utf-8")


def _render(post: Post) -> str:
    renderer = Renderer(
        SiteContext(language="de", timezone="Europe/Berlin", account_names={"stadt": "Stadt"})
    )
    view = renderer.view(post, {post.id: "beitrag/stadt/x/"})
    return renderer.post_page(view, [view]).markdown()


# -- edit history ----------------------------------------------------------------------------


def test_earlier_versions_are_fetched_once_and_kept_in_the_archive(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    history_requests = server.requests_to(HISTORY)
    assert [r.path.split("/")[-2] for r in history_requests] == [EDITED]

    archive = Archive(config.archive_dir)
    post = archive.load_post("stadt", EDITED)
    assert post is not None and post.edited == "2026-06-16T09:12:00+00:00"
    assert EARLIER_TEXT not in post.text_html
    [earlier] = post.extra["history"]
    assert earlier["at"] == "2026-06-16T07:45:00+00:00"
    assert EARLIER_TEXT in earlier["text_html"]
    assert "utm_" not in earlier["text_html"], "earlier versions are cleaned like the post"
    raw = json.loads(archive.raw_path("stadt", EDITED).read_text(encoding="utf-8"))
    assert len(raw["_history"]) == 2, "the /history answer is kept beside the status"
    unedited = archive.load_post("stadt", PINNED)
    assert unedited is not None and "history" not in unedited.extra

    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].requests == 1 and not server.requests_to(HISTORY)


def test_earlier_versions_never_reach_the_site_or_its_feeds(demo_site: Path) -> None:
    """The issue: 'earlier versions stay in the archive, not on the site'."""
    archive = demo_site.parent / "demo" / "archive"
    held = (archive / "posts" / "stadt" / f"{EDITED}.json").read_text(encoding="utf-8")
    assert EARLIER_TEXT in held, "the archive must hold the earlier version"
    shown = [
        p for p in demo_site.rglob("*") if p.is_file() and p.suffix in (".html", ".xml", ".json")
    ]
    assert any("26. bis 28. Juni" in p.read_text(encoding="utf-8") for p in shown)
    for path in shown:
        assert EARLIER_TEXT not in path.read_text(encoding="utf-8"), path


def test_a_recheck_asks_for_the_history_only_when_edited_at_changed(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    archive = Archive(config.archive_dir)
    archived = archive.load_post("stadt", EDITED)
    assert archived is not None
    state = archive.load_state("stadt")["cursor"]
    account = config.account("stadt")
    source = MastodonSource()

    def recheck(post: Post) -> FetchContext:
        context = FetchContext(account, Http(), dict(state), logging.getLogger("test"))
        assert source.check_exists(context, post) is True
        return context

    server.log.clear()
    context = recheck(archived)
    assert not server.requests_to(HISTORY), "same edited_at: the archived history is kept"
    media = MediaStore(config.archive_dir / "media", Http(), account="stadt")
    refreshed = media.rehost_post(context.refreshed[0].post, archived)  # as the orchestrator does
    assert refreshed == archived, "an unchanged re-read must not rewrite the post"

    server.mastodon.edit_post(
        EDITED,
        edited_at="2026-06-17T06:00:00Z",
        text="Stadtfest vom 26. bis 28. Juni, jetzt mit Lageplan.",
        history=[
            *server.mastodon._account_by_name("stadt")["posts"][6]["history"],
            {"at": "2026-06-16T09:12:00Z", "text": "Zweite Fassung."},
        ],
    )
    context = recheck(archived)
    assert len(server.requests_to(HISTORY)) == 1
    post = context.refreshed[0].post
    assert post.edited == "2026-06-17T06:00:00+00:00"
    assert [v["at"] for v in post.extra["history"]] == [
        "2026-06-16T07:45:00+00:00",
        "2026-06-16T09:12:00+00:00",
    ]

    archived_before_this_feature = Post.from_dict({**archived.to_dict(), "extra": {}})
    server.log.clear()
    recheck(archived_before_this_feature)
    assert len(server.requests_to(HISTORY)) == 1, "a post held without history gets it once"


def test_a_history_the_server_refuses_does_not_fail_the_account(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    server.fail(HISTORY, 401, body='{"error":"This action is not allowed"}', times=5)
    report = run_fetch(config)
    assert report.exit_code == 0, report.summary_lines()
    post = Archive(config.archive_dir).load_post("stadt", EDITED)
    assert post is not None and post.extra == {"history": []}


def test_a_history_request_that_fails_for_a_passing_reason_repeats_the_run(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    server.fail(HISTORY, 502, body="<html>Bad gateway</html>", times=10)
    report = run_fetch(config, http=Http(retries=1, sleep=lambda _: None))
    assert report.accounts[0].status in ("failed", "partial")
    assert not (config.archive_dir / "state" / "stadt.json").exists()
    server.faults.clear()
    run_fetch(config)
    post = Archive(config.archive_dir).load_post("stadt", EDITED)
    assert post is not None and len(post.extra["history"]) == 1


def test_history_versions_are_sanitized_and_the_current_one_is_left_out() -> None:
    status = {
        "id": "7",
        "created_at": "2026-08-01T13:54:00.505Z",
        "edited_at": "2026-08-01T13:54:00.695Z",
        "visibility": "public",
        "content": "<p>Kate</p>",
        "url": "https://musterstadt.social/@stadt/7",
        "_history": [
            {
                "content": '<p>VS Code <img src="https://x.example/e.png" alt=":heart:"> '
                '<script>alert(1)</script><a href="https://musterstadt.de/?utm_source=x">x</a></p>',
                "spoiler_text": "Technik",
                "created_at": "2026-08-01T13:54:00.505Z",
                "media_attachments": [{"type": "image", "description": "Screenshot"}],
                "poll": {"options": [{"title": "Ja"}, {"title": "Nein"}]},
            },
            {"content": "<p>Kate</p>", "created_at": "2026-08-01T13:54:00.695Z"},
        ],
    }
    post = to_post(status, ACCOUNT)
    assert post.extra["history"] == [
        {
            "at": "2026-08-01T13:54:00+00:00",
            "text_html": '<p>VS Code :heart: <a href="https://musterstadt.de/" '
            'rel="nofollow noopener noreferrer">x</a></p>',
            "content_warning": "Technik",
            "media": [{"kind": "image", "alt": "Screenshot"}],
            "poll": ["Ja", "Nein"],
        }
    ]


# -- pinned ----------------------------------------------------------------------------------


def test_pinned_posts_are_marked_and_asked_for_at_most_once_a_day(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    assert len(_pinned_requests(server)) == 1
    archive = Archive(config.archive_dir)
    assert {p.native_id for p in archive.iter_posts("stadt") if p.pinned} == {PINNED}

    server.log.clear()
    report = run_fetch(config)  # an hour later: no pinned request
    assert report.accounts[0].requests == 1 and not _pinned_requests(server)

    _make_pinned_check_due(config)
    posts_before = tree_bytes(config.archive_dir / "posts")
    server.log.clear()
    report = run_fetch(config)  # a day later, nothing changed: two requests, no post rewritten
    assert report.accounts[0].requests == 2 and len(_pinned_requests(server)) == 1
    assert tree_bytes(config.archive_dir / "posts") == posts_before
    assert not (config.archive_dir / "history").exists()


def test_pinning_and_unpinning_reach_the_archive_with_the_next_daily_check(
    tmp_path: Path, server: DemoServer
) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    server.mastodon.edit_post(PINNED, pinned=False)
    server.mastodon.edit_post(LATER, pinned=True)
    server.mastodon.edit_post(EDITED, pinned=True)
    _make_pinned_check_due(config)
    server.log.clear()
    report = run_fetch(config)
    assert report.accounts[0].updated == 3, report.summary_lines()
    archive = Archive(config.archive_dir)
    assert {p.native_id for p in archive.iter_posts("stadt") if p.pinned} == {LATER, EDITED}
    assert server.requests_to(rf"/api/v1/statuses/{PINNED}$"), "the unpinned one is re-read"
    edited = archive.load_post("stadt", EDITED)
    assert edited is not None and len(edited.extra["history"]) == 1, "history kept on re-read"
    assert (config.archive_dir / "history" / "stadt" / PINNED).is_dir(), "old version kept"


def test_the_pinned_request_decides_when_statuses_carry_no_pinned_field(
    tmp_path: Path, server: DemoServer
) -> None:
    """Unauthenticated answers leave out ``pinned``: the ids of ?pinned=true are what counts."""
    for account in server.mastodon.accounts:
        for post in account["posts"]:
            post.pop("pinned", None)
    pinned = next(p for p in server.mastodon.accounts[0]["posts"] if str(p["id"]) == LATER)
    entity = server.mastodon.status_entity(
        server.mastodon.accounts[0], pinned, f"{server.url}/mastodon/musterstadt.social"
    )
    del entity["pinned"]
    server.fail(
        STATUSES, 200, body=json.dumps([entity]), headers={"Content-Type": "application/json"}
    )
    config = _config(tmp_path, server)
    run_fetch(config)
    archive = Archive(config.archive_dir)
    assert {p.native_id for p in archive.iter_posts("stadt") if p.pinned} == {LATER}


# -- polls, custom emoji, content warnings ---------------------------------------------------


def test_poll_results_are_kept_as_text_on_the_page(tmp_path: Path, server: DemoServer) -> None:
    config = _config(tmp_path, server)
    run_fetch(config)
    post = Archive(config.archive_dir).load_post("stadt", "112400000000000107")
    assert post is not None and post.poll is not None and post.poll.closed
    assert [(o.title, o.votes) for o in post.poll.options][1] == ("Park am Mühlbach", 689)
    text = re.sub(r"<[^>]+>", "", _render(post))  # what a reader sees, whatever the markup
    assert "Park am Mühlbach: 37 % (689 Stimmen)" in text
    assert "Umfrage (beendet), 1856 Teilnehmende" in text


def test_a_poll_with_hidden_counts_keeps_its_options_without_numbers() -> None:
    poll = to_poll(
        {
            "expires_at": "2026-12-01T12:00:00.000Z",
            "expired": False,
            "voters_count": None,
            "options": [{"title": "Ja", "votes_count": None}, {"title": "Nein"}],
        }
    )
    assert poll is not None
    assert [(o.title, o.votes) for o in poll.options] == [("Ja", None), ("Nein", None)]
    assert poll.voters is None and not poll.closed


def test_custom_emoji_stay_shortcode_text_and_no_emoji_image_survives() -> None:
    status = {
        "id": "8",
        "created_at": "2026-08-01T10:00:00.000Z",
        "visibility": "public",
        "url": "https://musterstadt.social/@stadt/8",
        "spoiler_text": "Hitze :sun_face:",
        "content": '<p>Danke :trans_heart: und <img class="custom-emoji" '
        'src="https://files.example/emoji/wappen.png" alt=":wappen:" title=":wappen:"> '
        '<img src="https://tracker.example/pixel.gif" alt="">!</p>',
        "emojis": [
            {"shortcode": "wappen", "url": "https://files.example/emoji/wappen.png"},
            {"shortcode": "trans_heart", "url": "https://files.example/emoji/h.png"},
        ],
    }
    post = to_post(status, ACCOUNT)
    assert post.text_html == "<p>Danke :trans_heart: und :wappen: !</p>"
    assert post.content_warning == "Hitze :sun_face:"
    assert "files.example" not in json.dumps(post.to_dict())


def test_a_content_warning_is_kept_and_the_page_shows_it_collapsed(
    tmp_path: Path, server: DemoServer
) -> None:
    accounts = [
        {
            "key": "feuerwehr",
            "platform": "mastodon",
            "name": "Feuerwehr Musterstadt",
            "instance": "musterstadt.social",
            "handle": "feuerwehr",
        }
    ]
    config = write_config(tmp_path, server, accounts=accounts)
    run_fetch(config)
    post = Archive(config.archive_dir).load_post("feuerwehr", "112400000000000115")
    assert post is not None and post.content_warning == "Unwetterwarnung"
    html = _render(post)
    match = re.search(
        r'<details class="aushang-cw">\s*<summary>(.*?)</summary>(.*?)</details>', html, re.S
    )
    assert match, "the warning must fold the post away"
    summary, folded = (re.sub(r"<[^>]+>", "", part) for part in match.groups())
    assert summary.startswith("Inhaltswarnung: Unwetterwarnung")
    assert "UNWETTERWARNUNG für Musterstadt" in folded
    # Within the post itself nothing of the text comes before the warning. (The page's title
    # and description are the renderer's business: see the report of this change.)
    article = html.index("<article")
    assert "UNWETTERWARNUNG" not in html[article : match.start()], "text shown before the warning"
    assert "<details open" not in html
