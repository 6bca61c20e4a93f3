"""``aushang import``: older posts from X's archive and Meta's export, into the same archive."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from fetch.archive import Archive
from fetch.cli import main
from fetch.demo.photos import make_photo
from fetch.demo.server import DemoServer
from fetch.importers import ExportError, fix_mojibake, parse_ytd, run_import
from fetch.run import run_fetch

from .conftest import FIXTURES, tree_bytes, write_config

EXPORTS = FIXTURES / "import"
# The X fixture's tweets (see tests/fixtures/import/x/data/tweets.js).
FESTIVAL = "1106090751554486273"  # photo, emoji before the media link
PARKING = "1106091347145654273"  # self-reply with a tracked link and "&amp;"
REPOST = "1278297297515446273"
EDITED_FIRST, EDITED_LATEST = "1587716136760246273", "1587718527513526274"
PLAYGROUND = "1395401426334646273"  # its photo is missing in the export
CHRISTMAS = "1474318933816246273"  # a video, in tweets-part1.js


def _accounts(server: DemoServer) -> list[dict[str, Any]]:
    return [
        {
            "key": "stadt-x",
            "platform": "x",
            "username": "musterstadt",
            "token_env": "MUSTERSTADT_X_TOKEN",
            "api_base": f"{server.url}/x",
        },
        {
            "key": "stadt-facebook",
            "platform": "facebook",
            "page_id": "104857361234567",
            "token_env": "MUSTERSTADT_FACEBOOK_TOKEN",
            "api_base": f"{server.url}/facebook",
        },
        {
            "key": "stadt-instagram",
            "platform": "instagram",
            "user_id": "17841400123456789",
            "token_env": "MUSTERSTADT_INSTAGRAM_TOKEN",
            "api_base": f"{server.url}/instagram",
        },
    ]


def _x_export(folder: Path, *, extra_tweets: list[dict[str, Any]] | None = None) -> Path:
    """The X fixture as an unpacked archive, with photos (EXIF and GPS) in tweets_media/."""
    root = folder / "twitter-archive"
    shutil.copytree(EXPORTS / "x", root)
    media = root / "data" / "tweets_media"
    media.mkdir()
    (media / f"{FESTIVAL}-D1sQe7kWwAAbrnn.jpg").write_bytes(
        make_photo("import-fruehlingsfest", width=1200, height=900, gps=True)
    )
    (media / f"{CHRISTMAS}-Kf8sPq2WzR1tYx0a.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    if extra_tweets:
        tweets = root / "data" / "tweets.js"
        entries = parse_ytd(tweets.read_text(encoding="utf-8"), "tweets.js")
        entries.extend({"tweet": t} for t in extra_tweets)
        tweets.write_text(
            "window.YTD.tweets.part0 = " + json.dumps(entries, ensure_ascii=False), "utf-8"
        )
    return root


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def _posts(config: Any, account: str) -> dict[str, Any]:
    return {p.native_id: p for p in Archive(config.archive_dir).iter_posts(account)}


def test_the_x_archive_zip_imports_posts_under_the_ids_the_api_uses(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    export = _zip(_x_export(tmp_path), tmp_path / "twitter-2026-11-20.zip")
    report = run_import(config, "x", export, "stadt-x")
    assert (report.new, report.skipped, report.kept) == (6, 1, 0), report.summary_lines()
    assert (report.media, report.media_missing) == (1, 1)
    posts = _posts(config, "stadt-x")
    assert set(posts) == {FESTIVAL, PARKING, REPOST, EDITED_FIRST, PLAYGROUND, CHRISTMAS}

    festival = posts[FESTIVAL]
    assert festival.id == f"x:stadt-x:{FESTIVAL}"
    assert festival.text_html == (
        "<p>🌷🌷 Frühlingsfest am Marktplatz: Heute ab 11 Uhr Musik, Kinderflohmarkt und die "
        'Eröffnung des neuen Brunnens. <span class="hashtag">#Frühlingsfest</span></p>'
    ), "code-point offsets: the t.co media link is cut exactly, the emoji stay"
    assert festival.published == "2019-03-14T07:12:40+00:00"
    photo = festival.media[0]
    assert photo.variants and not photo.source, "taken from the export, not downloaded"
    with Image.open(config.archive_dir / "media" / photo.variants[-1].path) as image:
        assert not image.getexif(), "no EXIF, no GPS position"

    parking = posts[PARKING]
    assert parking.reply_to == f"x:stadt-x:{FESTIVAL}"
    assert "Parken &amp; Anreise" in parking.text_html
    assert 'href="https://www.musterstadt.de/verkehr/fruehlingsfest"' in parking.text_html
    repost = posts[REPOST]
    assert repost.repost_of is not None and repost.repost_of.name == "Feuerwehr Musterstadt"
    assert repost.text_html.startswith("<p>Achtung, Waldbrandgefahr!")
    edited = posts[EDITED_FIRST]
    assert edited.edited == "2022-11-02T08:09:30+00:00"
    assert edited.published == "2022-11-02T08:00:00+00:00"
    assert "4. November" in edited.text_html and edited.url.endswith(EDITED_LATEST)
    assert posts[PLAYGROUND].media[0].rejected == "nicht im Export enthalten"
    video = posts[CHRISTMAS].media[0]
    assert video.kind == "video" and video.url.endswith(CHRISTMAS) and not video.rejected

    archived = "".join(p.read_text("utf-8") for p in config.archive_dir.rglob("*.json"))
    assert "max_beispiel" not in archived, "a reply to a citizen is never archived"
    assert "t.co/" not in "".join(p.text_html for p in posts.values())


def test_importing_the_same_export_twice_changes_no_byte(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    folder = _x_export(tmp_path)
    run_import(config, "x", _zip(folder, tmp_path / "archive.zip"), "stadt-x")
    before = tree_bytes(config.archive_dir)
    report = run_import(config, "x", folder, "stadt-x")  # the unpacked folder: the same posts
    assert (report.new, report.updated, report.unchanged) == (0, 0, 6)
    report = run_import(config, "x", folder / "data" / "tweets.js", "stadt-x")
    assert report.unchanged == 6, "the single posts file finds its parts and media too"
    assert tree_bytes(config.archive_dir) == before


def test_import_and_api_fetch_meet_on_the_same_post_instead_of_doubling_it(
    tmp_path: Path, server: DemoServer
) -> None:
    """The archive's copy of a post the API also returns is replaced, never duplicated; a
    post the API fetched first is kept as the API gave it."""
    demo_ids = server.x.ids("sturm")
    storm = {
        "id_str": demo_ids[0],
        "id": demo_ids[0],
        "created_at": "Thu Jun 18 14:05:00 +0000 2026",
        "full_text": "Unwetterwarnung für Musterstadt (Fassung aus dem Archiv)",
        "display_text_range": ["0", "56"],
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
        "lang": "de",
        "edit_info": {"initial": {"editTweetIds": demo_ids}},
    }
    config = write_config(tmp_path, server, accounts=_accounts(server)[:1])
    folder = _x_export(tmp_path, extra_tweets=[storm])
    run_import(config, "x", folder, "stadt-x")
    report = run_fetch(config, environ={"MUSTERSTADT_X_TOKEN": "x-demo-token"})
    assert report.accounts[0].updated == 1, "the imported copy became the API version"
    posts = _posts(config, "stadt-x")
    assert "Fassung aus dem Archiv" not in posts[demo_ids[0]].text_html
    assert "imported_from" not in posts[demo_ids[0]].extra
    report = run_import(config, "x", folder, "stadt-x")
    assert report.kept == 1 and report.new == 0
    assert "Fassung aus dem Archiv" not in _posts(config, "stadt-x")[demo_ids[0]].text_html


@pytest.mark.parametrize(
    "content",
    [
        "window.YTD.tweets.part0 = [];\nrequire('child_process').execSync('touch PWNED');",
        "window.YTD.tweets.part0 = [] , (function(){ globalThis.pwned = 1 })()",
        "(function(){ require('fs').writeFileSync('PWNED', '') })();\nwindow.YTD.tweets.part0 = []",
        "window.location = 'https://example.org/'; window.YTD.tweets.part0 = []",
    ],
    ids=["code-after-the-array", "comma-expression", "code-before", "other-assignment"],
)
def test_a_tweets_js_with_code_besides_the_data_is_refused_not_run(
    tmp_path: Path, server: DemoServer, content: str
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    folder = _x_export(tmp_path)
    (folder / "data" / "tweets.js").write_text(content, encoding="utf-8")
    before = tree_bytes(tmp_path)
    with pytest.raises(ExportError, match="tweets.js"):
        run_import(config, "x", folder, "stadt-x")
    assert not (config.archive_dir / "posts").exists()
    assert not list(tmp_path.rglob("PWNED"))
    assert set(tree_bytes(tmp_path)) - set(before) <= {"archive/FORMAT"}


def test_the_documented_prefix_with_a_trailing_semicolon_is_accepted() -> None:
    assert parse_ytd('window.YTD.tweets.part3 = [{"tweet": {}}];\n', "x") == [{"tweet": {}}]
    with pytest.raises(ExportError, match="after the JSON"):
        parse_ytd("window.YTD.tweets.part0 = [];;", "x")


def test_meta_mojibake_is_repaired_where_it_round_trips() -> None:
    assert fix_mojibake("Fr\u00c3\u00bchlingsfest \u00f0\u009f\u008e\u0089") == "Frühlingsfest 🎉"
    assert fix_mojibake("Frühlingsfest") == "Frühlingsfest", "already right: no round trip"
    assert fix_mojibake("Café 🎉") == "Café 🎉"
    assert fix_mojibake({"a": ["Gr\u00c3\u00bc\u00c3\u009fe"]}) == {"a": ["Grüße"]}


def _meta_export(folder: Path, platform: str) -> Path:
    root = folder / f"{platform}-export"
    shutil.copytree(EXPORTS / platform, root)
    if platform == "facebook":
        photo = root / "your_facebook_activity/posts/media/Sommerfest2019_aB3kQ"
        photo.mkdir(parents=True)
        (photo / "10157000000000001.jpg").write_bytes(make_photo("import-sommerfest", gps=True))
    else:
        for name in (
            "201908/67234100_2311000000000001_n.jpg",
            "202002/86000000_2900000000000001_n.jpg",
        ):
            path = root / "media/posts" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(make_photo(f"import-{path.stem}", gps=True))
    return root


def test_a_facebook_export_needs_a_limit_and_then_imports_older_posts_repaired(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    folder = _meta_export(tmp_path, "facebook")
    export = _zip(folder, tmp_path / "facebook.zip")
    with pytest.raises(ExportError, match="aushang fetch"):
        run_import(config, "facebook", export, "stadt-facebook")
    report = run_import(config, "facebook", export, "stadt-facebook", before="2019-12-31")
    assert (report.new, report.skipped) == (2, 2), report.summary_lines()
    posts = sorted(_posts(config, "stadt-facebook").values(), key=lambda p: p.published)
    new_year, festival = posts
    assert "Musterstädterinnen" in new_year.text_html
    assert new_year.card is not None and new_year.card.url == "https://www.musterstadt.de/neujahr"
    assert new_year.card.title == "Neujahrsgrüße der Oberbürgermeisterin"
    assert "Großes Sommerfest" in festival.text_html and "fbclid" not in festival.text_html
    assert festival.hashtags == ("Sommerfest",)
    assert festival.native_id.startswith("export-1561971600-")
    assert festival.url == "https://www.facebook.com/104857361234567"
    assert festival.media[0].variants
    raw = (config.archive_dir / "raw" / "stadt-facebook" / f"{festival.native_id}.json").read_text()
    assert "51.123" not in raw and "media_metadata" not in raw, "no photo position in the archive"
    before = tree_bytes(config.archive_dir)
    run_import(config, "facebook", export, "stadt-facebook", before="2019-12-31")
    posts_file = folder / "your_facebook_activity/posts"
    posts_file /= "your_posts__check_ins__photos_and_videos_1.json"
    report = run_import(config, "facebook", posts_file, "stadt-facebook", before="2019-12-31")
    assert (report.unchanged, report.media_missing) == (2, 0), "media found from the file too"
    assert tree_bytes(config.archive_dir) == before


def test_a_meta_import_takes_only_what_is_older_than_the_oldest_fetched_post(
    tmp_path: Path, server: DemoServer
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    archive = Archive(config.archive_dir)
    from fetch.model import Post

    fetched = Post(
        id="instagram:stadt-instagram:17900000000000001",
        platform="instagram",
        account="stadt-instagram",
        native_id="17900000000000001",
        url="https://www.instagram.com/p/Cxyz/",
        published="2020-01-01T00:00:00+00:00",
        text_html="<p>Über die API geholt</p>",
    )
    archive.save_post(fetched, {"id": "17900000000000001"})
    export = _meta_export(tmp_path, "instagram")
    report = run_import(config, "instagram", export, "stadt-instagram")
    assert (report.new, report.skipped) == (1, 1)
    posts = _posts(config, "stadt-instagram")
    (imported,) = [p for p in posts.values() if p.native_id.startswith("export-")]
    assert imported.text_html.startswith("<p>Blick vom Rathausturm über die Dächer")
    assert imported.hashtags == ("Musterstadt", "Altstadt")
    assert [m.kind for m in imported.media] == ["image", "video"]
    assert imported.media[0].variants and not imported.media[1].rejected


def test_the_cli_imports_and_names_a_wrong_account(
    tmp_path: Path, server: DemoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, server, accounts=_accounts(server))
    export = _zip(_x_export(tmp_path), tmp_path / "archive.zip")
    arguments = ["--config", str(config.path), "import", "x", str(export)]
    assert main([*arguments, "--account", "stadt-x"]) == 0
    assert "stadt-x (x): 7 posts in the export, new 6" in capsys.readouterr().out
    assert main([*arguments, "--account", "stadt-facebook"]) == 2
    assert "'stadt-facebook' is a facebook account, not x" in capsys.readouterr().err
    assert main([*arguments, "--account", "gibtesnicht"]) == 2
    assert "no account with key 'gibtesnicht'" in capsys.readouterr().err
    assert (
        main(
            [
                "--config",
                str(config.path),
                "import",
                "x",
                str(tmp_path / "fehlt.zip"),
                "--account",
                "stadt-x",
            ]
        )
        == 1
    )
    assert "no such file or folder" in capsys.readouterr().err
