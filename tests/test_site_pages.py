"""The pages of the built Musterstadt site (a real, strict mkdocs build of the demo): browsing by
account, platform, hashtag and month, post pages, the legal pages, and the alt-text report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from fetch.archive import Archive, slug
from fetch.cli import main
from fetch.run import run_fetch
from fetch.site.reports import missing_alt_text
from fetch.site.text import hashtag_slug
from fetch.times import local
from tests.conftest import write_config


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _archive(site: Path) -> Archive:
    return Archive(site.parent / "demo" / "archive")


def _post_page(site: Path, account: str, native_id: str) -> Path:
    return site / "beitrag" / account / slug(native_id) / "index.html"


def _content(path: Path) -> Any:
    content = _soup(path).select_one("article.md-content__inner")
    assert content is not None, path
    return content


def test_every_page_type_exists(demo_site: Path) -> None:
    for path in (
        "index.html",
        "konto/stadt/seite/1/index.html",
        "archiv/index.html",
        "archiv/2026/06/index.html",
        "konto/index.html",
        "konto/stadt/index.html",
        "plattform/mastodon/index.html",
        "hashtag/index.html",
        "hashtag/stadtfest/index.html",
        "suche/index.html",
        "about/impressum/index.html",
        "about/datenschutz/index.html",
        "about/barrierefreiheit/index.html",
        "about/leichte-sprache/index.html",
        "technik/abonnieren/index.html",
        "404.html",
    ):
        assert (demo_site / path).is_file(), path
    # pagefind replaces the theme's search: no index that grows with the archive
    assert not (demo_site / "search" / "search_index.json").exists()


def test_archive_lists_every_month_with_its_count(demo_site: Path) -> None:
    posts = list(_archive(demo_site).iter_posts())
    expected = Counter(
        (local(p.published, "Europe/Berlin").year, local(p.published, "Europe/Berlin").month)
        for p in posts
    )
    items = _content(demo_site / "archiv" / "index.html").select(".aushang-overview__list li")
    assert len(items) == len(expected)
    shown = {}
    for item in items:
        link = item.select_one("a")
        year, month = (int(part) for part in link["href"].strip("/").split("/")[-2:])
        count = item.select_one(".aushang-count").get_text()
        shown[(year, month)] = int(count.strip("()").split()[0])
        assert (demo_site / "archiv" / link["href"] / "index.html").is_file()
    assert shown == dict(expected)
    keys = list(shown)
    assert keys == sorted(keys, reverse=True)  # newest month first


def test_month_account_platform_and_hashtag_pages_hold_exactly_their_posts(
    demo_site: Path,
) -> None:
    posts = list(_archive(demo_site).iter_posts())

    def listed(directory: Path) -> set[str]:
        found: set[str] = set()
        pages = [directory / "index.html", *sorted(directory.glob("seite/*/index.html"))]
        for page in pages:
            soup = _soup(page)
            # the timeline and accounts show teasers; hashtags, months, platforms index lines
            links = soup.select(".aushang-feed > article .aushang-post__date")
            links += soup.select("ol.aushang-index > li > a")
            for link in links:
                found.add(link["href"].rstrip("/").split("beitrag/", 1)[1])
        return found

    def key(post: Any) -> str:
        return f"{post.account}/{slug(post.native_id)}"

    june = {
        key(p)
        for p in posts
        if (local(p.published, "Europe/Berlin").year, local(p.published, "Europe/Berlin").month)
        == (2026, 6)
    }
    assert listed(demo_site / "archiv" / "2026" / "06") == june
    assert listed(demo_site / "konto" / "feuerwehr") == {
        key(p) for p in posts if p.account == "feuerwehr"
    }
    # a platform's page shows its newest 100 posts (five pages of teasers); the demo has fewer
    on_mastodon = {key(p) for p in posts if p.platform == "mastodon"}
    assert 0 < len(on_mastodon) < 100
    assert listed(demo_site / "plattform" / "mastodon") == on_mastodon
    tagged = {
        key(p)
        for p in posts
        if "stadtfest" in {hashtag_slug(t) for t in p.hashtags}
        or "#Stadtfest" in p.text_html.replace("#<span>Stadtfest</span>", "#Stadtfest")
    }
    assert listed(demo_site / "hashtag" / "stadtfest") == tagged


def test_hashtags_link_to_our_pages_and_external_links_show_their_host(demo_site: Path) -> None:
    """Post 112400000000000119 has a 200-character URL and a 39-character hashtag."""
    text = _soup(_post_page(demo_site, "stadt", "112400000000000119")).select_one(
        "article.aushang-post--full .aushang-post__text"
    )
    assert text is not None
    tags = {a.get_text(): a["href"] for a in text.select("a.aushang-hashtag")}
    assert tags == {
        "#ÖPNV": "../../../hashtag/oepnv/",
        "#Busumleitungshaltestellenbeschilderung": (
            "../../../hashtag/busumleitungshaltestellenbeschilderung/"
        ),
    }
    external = text.select('a[href^="https://"]')
    assert len(external) == 1 and len(external[0]["href"]) > 180
    label = external[0].find_next_sibling(class_="aushang-host")
    assert label is not None and label.get_text() == "(musterstadt.de)"


def test_no_page_links_to_a_platform_hashtag_page(demo_site: Path) -> None:
    """Hashtags lead to our own pages, never to a platform's tag page."""
    checked = 0
    for page in demo_site.rglob("*.html"):
        for link in _soup(page).select("a.hashtag, a.aushang-hashtag, a[href*='/tags/']"):
            assert not urlsplit(link["href"]).scheme, (page, link)
            checked += 1
    assert checked > 50


def test_every_outgoing_link_in_post_text_has_a_host_label(demo_site: Path) -> None:
    checked = 0
    for page in (demo_site / "beitrag").rglob("index.html"):
        for text in _soup(page).select(".aushang-post__text, .aushang-quote__text"):
            for link in text.select('a[href^="http"]'):
                label = link.find_next_sibling()
                assert label is not None and "aushang-host" in label.get("class", []), (page, link)
                checked += 1
    assert checked > 20


def test_a_boost_is_shown_with_its_origin(demo_site: Path) -> None:
    page = _post_page(demo_site, "stadt", "112400000000000117")
    line = _soup(page).select_one("article.aushang-post--full .aushang-post__repost")
    assert line is not None
    assert "teilt einen Beitrag von" in line.get_text()
    origin = line.select_one("a")
    assert origin is not None
    assert origin["href"] == "https://musterstadt.social/@feuerwehr/112400000000000116"
    assert origin.get_text() == "Feuerwehr Musterstadt"


def test_the_self_thread_is_shown_as_one_conversation(demo_site: Path) -> None:
    soup = _soup(_post_page(demo_site, "stadt", "112400000000000128"))
    items = soup.select(".aushang-thread__list > li")
    assert len(items) == 3
    assert items[2].get("aria-current") == "true"
    assert items[2].select_one("article.aushang-post--full") is not None


def test_posts_stay_out_of_the_nav(demo_site: Path) -> None:
    """Posts are never nav entries (that makes mkdocs' build quadratic); overviews are: in the
    tabs of a generated page (which has no drawer) and in the drawer of a static page."""
    for page, selector in (
        ("index.html", "nav.md-tabs"),
        ("about/impressum/index.html", "nav.md-nav--primary"),
    ):
        nav = _soup(demo_site / page).select_one(selector)
        assert nav is not None, page
        hrefs = [a["href"] for a in nav.select("a[href]")]
        assert not [h for h in hrefs if "beitrag/" in h or "/seite/" in h]
        for overview in ("archiv/", "konto/", "hashtag/", "suche/"):
            assert any(h.endswith(overview) for h in hrefs), (page, overview)


def test_every_page_links_the_legal_pages_in_its_footer(demo_site: Path) -> None:
    expected = {
        "Impressum",
        "Datenschutz",
        "Barrierefreiheit",
        "Leichte Sprache",
        "So abonnieren Sie",
    }
    pages = sorted(demo_site.rglob("*.html"))
    for page in pages:
        footer = _soup(page).select_one("footer.md-footer .aushang-footer__legal")
        assert footer is not None, page
        links = {a.get_text(): a["href"] for a in footer.select("a")}
        assert set(links) == expected, page
        if page.name != "404.html":
            for href in links.values():
                assert (page.parent / href / "index.html").resolve().is_file(), (page, href)


def test_the_accessibility_statement_has_the_eu_model_fields(demo_site: Path) -> None:
    content = _content(demo_site / "about" / "barrierefreiheit" / "index.html")
    headings = [h.get_text(strip=True) for h in content.select("h2")]
    assert headings == [
        "Stand der Vereinbarkeit mit den Anforderungen",
        "Nicht barrierefreie Inhalte",
        "Erstellung dieser Erklärung",
        "Feedback und Kontaktangaben",
        "Durchsetzungsverfahren",
    ]
    text = content.get_text(" ", strip=True)
    assert "teilweise vereinbar" in text
    assert "am 4. Mai 2026 erstellt und zuletzt am 2. November 2026 überprüft" in text
    assert "barrierefreiheit@musterstadt.de" in text
    body = content.select_one("h1").find_all_next("p")
    assert body, "the heading is followed by paragraphs"
    link = content.select_one('a[href="https://www.schlichtungsstelle-bgg.de/"]')
    assert link is not None
    assert "{{" not in text and "{%" not in text


def test_impressum_keeps_the_line_breaks_of_the_address(demo_site: Path) -> None:
    content = _content(demo_site / "about" / "impressum" / "index.html")
    paragraph = content.select_one("p")
    assert paragraph is not None and len(paragraph.select("br")) == 2


def test_alt_text_report_lists_posts_without_descriptions_and_is_not_published(
    demo_site: Path,
) -> None:
    report = demo_site.parent / "build" / "reports" / "alt-text.md"
    text = report.read_text(encoding="utf-8")
    lacking = [p for p in _archive(demo_site).iter_posts() if missing_alt_text(p)]
    assert lacking
    images = sum(missing_alt_text(p) for p in lacking)
    assert f"**{len(lacking)} Beiträge mit {images} Bildern ohne Beschreibung.**" in text
    for post in lacking:
        assert post.url in text
    complete = [p for p in _archive(demo_site).iter_posts() if p.media and not missing_alt_text(p)]
    for post in complete:
        assert f"<{post.url}>" not in text
    assert not list(demo_site.rglob("alt-text*"))


def test_optional_pages_only_when_configured_and_the_build_names_the_report(
    tmp_path: Path, server: Any, capsys: Any
) -> None:
    """No Leichte Sprache without legal.leichte_sprache; a Gebärdensprache page linking to the
    city's video when legal.gebaerdensprache is set; `aushang build` says where the report is."""
    config = write_config(
        tmp_path,
        server,
        legal={
            "impressum": "Stadt Musterstadt",
            "gebaerdensprache": {
                "video": "https://www.musterstadt.de/dgs/aushang.mp4",
                "text": "Das Archiv in Deutscher Gebärdensprache erklärt.",
            },
        },
    )
    assert run_fetch(config).exit_code == 0
    assert main(["--config", str(config.path), "build"]) == 0
    output = capsys.readouterr().out
    assert f"see {tmp_path / 'build' / 'reports' / 'alt-text.md'}" in output
    site = config.site_dir
    assert not (site / "about" / "leichte-sprache").exists()
    page = site / "about" / "gebaerdensprache" / "index.html"
    content = _content(page)
    link = content.select_one('a[href="https://www.musterstadt.de/dgs/aushang.mp4"]')
    assert link is not None
    assert not content.select("video[autoplay], iframe")
    footer = {a.get_text() for a in _soup(site / "index.html").select(".aushang-footer__legal a")}
    assert "Gebärdensprache" in footer and "Leichte Sprache" not in footer
