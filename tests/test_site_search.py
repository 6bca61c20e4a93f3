"""Search on the built Musterstadt site: pagefind indexes the post pages only, and the page
"Suche" answers in headless Chromium from our own origin, loading only what a query needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from fetch.archive import Archive
from fetch.site.search import UNUSED_BUNDLE_FILES

if TYPE_CHECKING:
    from tests.browser import Visit

pytest_plugins = ["tests.browser"]


def _archive(site: Path) -> Archive:
    return Archive(site.parent / "demo" / "archive")


def test_the_index_holds_exactly_the_post_pages(demo_site: Path) -> None:
    # one bundle per year (tests/test_search_years.py); the demo's posts are all of 2026
    (bundle,) = (demo_site / "pagefind").iterdir()
    assert bundle.name == "2026"
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    (language,) = entry["languages"]
    assert language == "de"
    posts = list(_archive(demo_site).iter_posts())
    assert entry["languages"]["de"]["page_count"] == len(posts)
    for name in UNUSED_BUNDLE_FILES:
        assert not (bundle / name).exists(), name


def test_search_page_finds_a_post_and_links_to_it(visit: Visit) -> None:
    visit.goto("suche/")
    visit.page.get_by_label("Suchbegriff").fill("Sperrmüll")
    visit.page.get_by_role("button", name="Suchen").click()
    status = visit.page.locator("#aushang-search-status")
    status.filter(has_text="gefunden").wait_for(timeout=15_000)
    results = visit.page.locator(".aushang-search__result")
    assert status.inner_text() == f"{results.count()} Beiträge gefunden für „Sperrmüll“." or (
        results.count() == 1 and status.inner_text() == "1 Beitrag gefunden für „Sperrmüll“."
    )
    assert results.count() >= 1
    first = results.first
    assert "Sperrmüll" in first.locator(".aushang-search__excerpt").inner_text()
    assert first.locator("mark").count() >= 1
    # the address now holds the query, so the result list can be bookmarked and shared
    assert visit.page.url.endswith("suche/?q=Sperrm%C3%BCll")
    first.locator("a").click()
    visit.page.wait_for_load_state()
    assert "/beitrag/stadt/112400000000000105/" in visit.page.url
    visit.assert_private()


def test_a_query_in_the_address_runs_on_load_and_more_results_load_on_request(
    visit: Visit,
) -> None:
    visit.goto("suche/?q=Musterstadt")
    status = visit.page.locator("#aushang-search-status")
    status.filter(has_text="gefunden").wait_for(timeout=15_000)
    assert visit.page.locator("#aushang-search-input").input_value() == "Musterstadt"
    results = visit.page.locator(".aushang-search__result")
    assert results.count() == 10
    more = visit.page.get_by_role("button", name="Weitere Ergebnisse")
    more.click()
    results.nth(10).wait_for(timeout=15_000)  # (wait_for_function would need 'unsafe-eval')
    # focus moves to the first new result, so a keyboard user continues there
    focused = visit.page.evaluate("document.activeElement.closest('li') ? 1 : 0")
    assert focused == 1
    assert (
        visit.page.evaluate(
            "[...document.querySelectorAll('.aushang-search__result')].indexOf("
            "document.activeElement.closest('li'))"
        )
        == 10
    )
    visit.assert_private()


def test_a_query_without_hits_says_so(visit: Visit) -> None:
    visit.goto("suche/?q=Quastenflosser")
    status = visit.page.locator("#aushang-search-status")
    status.filter(has_text="Keine").wait_for(timeout=15_000)
    assert status.inner_text() == "Keine Beiträge gefunden für „Quastenflosser“."
    assert visit.page.locator(".aushang-search__result").count() == 0


def test_bytes_a_reader_downloads_for_one_query(visit: Visit, site_server: object) -> None:
    """Measured, printed (pytest -s) and bounded: the search page's own files plus what one
    query loads. A regression guard on bytes, not on time."""
    sizes: dict[str, int] = {}

    def record(response: object) -> None:
        url = response.url  # type: ignore[attr-defined]
        body = response.body()  # type: ignore[attr-defined]
        sizes[url] = len(body)

    visit.page.on("response", record)
    visit.goto("suche/?q=Stadtfest")
    visit.page.locator(".aushang-search__result").first.wait_for(timeout=15_000)
    visit.settle()
    search = {u: n for u, n in sizes.items() if "/pagefind/" in u or u.endswith("suche.js")}
    total = sum(sizes.values())
    query = sum(search.values())
    print(
        f"\nsearch page, one query: {total} bytes in {len(sizes)} files; of them search "
        f"{query} bytes in {len(search)} files"
    )
    for url, size in sorted(search.items(), key=lambda item: -item[1]):
        print(f"  {size:>8}  {url.split('/pagefind/')[-1]}")
    assert any(u.endswith(".pf_fragment") for u in search)
    assert query < 400_000  # pagefind's script and WebAssembly dominate; index chunks are small
    visit.assert_private()
