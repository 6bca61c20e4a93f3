"""Search in one pagefind bundle per year: a run indexes only the years whose post pages
changed, and a reader's search loads only the years it covers (the newest two by default).

The project is the Musterstadt demo (2026) plus posts of three earlier years, saved into the
archive as a fetch saves them; the site is built by the real build, served on 127.0.0.1 and
searched in headless Chromium.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fetch.archive import Archive
from fetch.demo.server import DemoServer
from fetch.model import post_id
from fetch.run import run_fetch
from fetch.site.build import build_site
from fetch.times import local
from tests.conftest import write_config

if TYPE_CHECKING:
    from tests.browser import SiteServer

pytest_plugins = ["tests.browser"]

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SITE = {"title": "Aushang Musterstadt", "language": "de", "url": "https://aushang.musterstadt.de/"}
# a word only one post of each earlier year holds
OLD_WORDS = {2022: "Okapi", 2023: "Quitte", 2024: "Zeppelin"}


def clock() -> datetime:
    return NOW


def add_old_posts(archive: Archive) -> None:
    """Copies of a demo post, dated mid-June of each earlier year, two per year."""
    model = next(p for p in archive.iter_posts() if p.account == "stadt" and not p.reply_to)
    for year, word in OLD_WORDS.items():
        for number in range(2):
            native = f"{year}0000000000{number}"
            text = f"<p>Rückblick {year}: {word if number == 0 else 'Tandem'}.</p>"
            post = dataclasses.replace(
                model,
                native_id=native,
                id=post_id(model.platform, model.account, native),
                published=f"{year}-06-1{number}T10:00:00+00:00",
                text_html=text,
                url=f"https://musterstadt.social/@stadt/{native}",
                media=(),
                card=None,
                poll=None,
                quote=None,
                repost_of=None,
                reply_to=None,
                hashtags=(),
                pinned=False,
            )
            archive.save_post(post, {"id": native})


@pytest.fixture
def built(tmp_path: Path, server: DemoServer) -> Any:
    config = write_config(tmp_path, server, site=SITE, site_dir="site")
    assert run_fetch(config, clock=clock).exit_code == 0
    add_old_posts(Archive(config.archive_dir))
    report = build_site(config)
    assert report.full
    return config


def posts_per_year(config: Any) -> Counter[str]:
    return Counter(
        str(local(post.published, config.site.timezone).year)
        for post in Archive(config.archive_dir).iter_posts()
    )


def years_loaded(requests: list[str]) -> set[str]:
    """The years whose index the browser fetched (pagefind's script comes from one of them)."""
    return {
        url.split("/pagefind/")[1].split("/")[0]
        for url in requests
        if "/pagefind/" in url and not url.endswith((".js", "/"))
    }


def bundle_pages(site: Path, year: str) -> int:
    entry = json.loads((site / "pagefind" / year / "pagefind-entry.json").read_text("utf-8"))
    return int(entry["languages"]["de"]["page_count"])


def test_each_year_has_a_bundle_of_exactly_its_post_pages(built: Any) -> None:
    site = built.site_dir
    expected = posts_per_year(built)
    assert sorted(expected) == ["2022", "2023", "2024", "2026"]
    assert sorted(p.name for p in (site / "pagefind").iterdir()) == sorted(expected)
    for year, count in expected.items():
        assert bundle_pages(site, year) == count, year
    # the search page names the years, newest first, and offers each as a scope
    page = (site / "suche" / "index.html").read_text("utf-8")
    assert 'data-years="[&#34;2026&#34;, &#34;2024&#34;, &#34;2023&#34;, &#34;2022&#34;]"' in page
    assert '<option value="">Neueste Beiträge (2024–2026)</option>' in page
    assert '<option value="alle">Alle Jahre (2022–2026, lädt mehr Daten)</option>' in page
    assert '<option value="2022">2022 (2 Beiträge)</option>' in page


def test_a_new_post_indexes_only_its_year_and_a_year_without_posts_loses_its_bundle(
    built: Any, server: DemoServer
) -> None:
    site = built.site_dir
    old = {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in (site / "pagefind" / "2023").rglob("*")
        if p.is_file()
    }
    before_2026 = bundle_pages(site, "2026")
    server.mastodon.add_post(
        "stadt",
        {"id": "112999000000000001", "at": "2026-11-27T11:55:00Z", "lang": "de", "text": "Neu"},
    )
    assert run_fetch(built, clock=clock).exit_code == 0
    report = build_site(built)
    assert not report.full
    assert report.search is not None and report.search.years == ("2026",)
    assert bundle_pages(site, "2026") == before_2026 + 1
    now = {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in (site / "pagefind" / "2023").rglob("*")
        if p.is_file()
    }
    assert now == old  # not indexed again

    # nothing new: no year is indexed
    assert build_site(built).search is None

    # both posts of 2022 are gone: its bundle goes, the other years stay as they are
    archive = Archive(built.archive_dir)
    for post in list(archive.iter_posts()):
        if post.published.startswith("2022-"):
            archive.post_path(post.account, post.native_id).unlink()
    report = build_site(built)
    assert report.search is None  # no remaining year's pages changed
    assert not (site / "pagefind" / "2022").exists()
    assert sorted(p.name for p in (site / "pagefind").iterdir()) == ["2023", "2024", "2026"]
    page = (site / "suche" / "index.html").read_text("utf-8")
    assert 'value="2022"' not in page


@pytest.fixture
def served(built: Any) -> Iterator[SiteServer]:
    from tests.browser import SiteServer

    with SiteServer(built.site_dir) as server:
        yield server


def test_a_search_loads_the_newest_years_and_older_years_on_request(
    chromium: Any, served: SiteServer
) -> None:
    from tests.browser import open_visit

    with open_visit(chromium, served.url) as visit:
        visit.goto(f"suche/?q={OLD_WORDS[2022]}")
        status = visit.page.locator("#aushang-search-status")
        status.filter(has_text="Keine").wait_for(timeout=15_000)
        visit.settle()
        loaded = years_loaded(visit.requests)
        assert loaded == {"2026", "2024"}
        older = visit.page.get_by_role("button", name="Auch in älteren Jahren suchen (2022–2023)")
        older.click()
        status.filter(has_text="1 Beitrag gefunden").wait_for(timeout=15_000)
        result = visit.page.locator(".aushang-search__result")
        assert result.count() == 1
        assert OLD_WORDS[2022] in result.first.inner_text()
        # the focus moved on to the result, the button is gone, the scope and address say so
        assert visit.page.evaluate("document.activeElement.closest('li') !== null")
        assert older.is_hidden()
        assert visit.page.locator("#aushang-search-scope").input_value() == "alle"
        assert "zeitraum=alle" in visit.page.url
        visit.settle()
        loaded = years_loaded(visit.requests)
        assert loaded == {"2026", "2024", "2023", "2022"}
        result.first.locator("a").click()
        visit.page.wait_for_load_state()
        assert "/beitrag/stadt/202200000000000/" in visit.page.url
        visit.assert_private()
        assert visit.page_errors == []


def test_one_year_is_searched_alone_when_the_address_asks_for_it(
    chromium: Any, served: SiteServer
) -> None:
    from tests.browser import open_visit

    with open_visit(chromium, served.url) as visit:
        visit.goto("suche/?q=Tandem&zeitraum=2023")
        status = visit.page.locator("#aushang-search-status")
        status.filter(has_text="gefunden").wait_for(timeout=15_000)
        assert visit.page.locator("#aushang-search-scope").input_value() == "2023"
        results = visit.page.locator(".aushang-search__result")
        assert results.count() == 1
        assert "Rückblick 2023" in results.first.inner_text()
        visit.settle()
        loaded = years_loaded(visit.requests)
        assert loaded == {"2023"}
        # choosing another scope searches again at once
        visit.page.locator("#aushang-search-scope").select_option("alle")
        status.filter(has_text="3 Beiträge gefunden").wait_for(timeout=15_000)
        assert "zeitraum=alle" in visit.page.url
        visit.assert_private()
        assert visit.page_errors == []
