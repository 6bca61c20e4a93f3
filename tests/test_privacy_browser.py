"""What a reader's browser does on the built Musterstadt site: headless Chromium loads the home
page, a post with photos, the search page with results, and the 404 page from a server on
127.0.0.1.
Any request to another host fails the test (and is aborted); so does a Content-Security-Policy
violation, a cookie, or anything in web storage but mkdocs-material's own UI settings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.browser import SiteServer, Visit

pytest_plugins = ["tests.browser"]

# mkdocs-material's own keys in web storage, stored as "<site path>.<key>" (its __md_set). Each
# is a reader's display choice, kept in their own browser and never sent anywhere; none
# identifies a reader or a visit, so none is tracking (§ 25 (2) 2 TDDDG: strictly necessary for
# the function the reader asked for).
MATERIAL_LOCAL_STORAGE = {
    "__palette": "the light or dark colour scheme (written on load, changed by the toggle)",
    "__tabs": "which content tab a reader chose (linked tabs); unused by Aushang",
    "__announce": "that the announcement bar was dismissed; unused by Aushang",
}
# Material's sessionStorage keys are "__outdated" (version warning, needs a version provider)
# and "__source" (cached repository facts, needs repo_url): Aushang uses neither, so none.
MATERIAL_SESSION_STORAGE: dict[str, str] = {}

SEARCH_TERM = "Stadtfest"  # in several demo posts


def storage_keys(page: Any, kind: str) -> list[str]:
    return list(page.evaluate(f"Object.keys({kind})"))


def material_key(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def assert_nothing_stored(visit: Visit) -> None:
    """No cookie, no tracking storage: only material's UI keys, no IndexedDB, caches, workers."""
    page = visit.page
    assert visit.context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    local = storage_keys(page, "localStorage")
    session = storage_keys(page, "sessionStorage")
    assert [k for k in local if material_key(k) not in MATERIAL_LOCAL_STORAGE] == [], local
    assert [k for k in session if material_key(k) not in MATERIAL_SESSION_STORAGE] == [], session
    for key in local:  # the values are display settings, not identifiers
        value = json.loads(page.evaluate("(key) => localStorage.getItem(key)", key))
        if material_key(key) == "__palette":
            assert set(value) <= {"index", "color"}, value
    assert page.evaluate("async () => (await indexedDB.databases()).length") == 0
    assert page.evaluate("async () => (await caches.keys()).length") == 0
    registrations = "async () => (await navigator.serviceWorker.getRegistrations()).length"
    assert page.evaluate(registrations) == 0


def assert_policy_first(visit: Visit) -> None:
    """The Content-Security-Policy is the first element of <head>, the referrer policy next."""
    first = visit.page.evaluate(
        "[...document.head.children].slice(0, 2).map((e) => [e.tagName, e.httpEquiv, e.name,"
        " e.content])"
    )
    assert first[0][:2] == ["META", "Content-Security-Policy"], first
    assert "default-src 'self'" in first[0][3]
    assert first[1] == ["META", "", "referrer", "no-referrer"], first


def post_with_photos(site_dir: Path) -> str:
    """The path of a post page that shows photos (the demo's carry EXIF and GPS at the source)."""
    for page in sorted(site_dir.glob("beitrag/*/*/index.html")):
        if page.read_text(encoding="utf-8").count("<img ") >= 2:
            return page.parent.relative_to(site_dir).as_posix() + "/"
    raise AssertionError("no post page with photos in the demo site")


def test_home_page_stays_on_our_origin(visit: Visit, site_server: SiteServer) -> None:
    """The home page, its styles, scripts and photos all come from us."""
    response = visit.goto("")
    assert response.status == 200
    visit.page.mouse.wheel(0, 100_000)  # lazy photos further down load too
    visit.settle()
    assert_policy_first(visit)
    visit.assert_private()
    assert_nothing_stored(visit)
    assert any("/media/" in url for url in visit.requests), "the page showed no photo"


def test_post_page_shows_its_photos_from_our_origin(
    visit: Visit, site_server: SiteServer, demo_site: Path
) -> None:
    """A post page with photos: every image loads (the policy allows our own), none elsewhere."""
    path = post_with_photos(demo_site)
    assert visit.goto(path).status == 200
    visit.page.mouse.wheel(0, 100_000)
    visit.settle()
    images = visit.page.evaluate(
        "[...document.images].map((i) => [i.currentSrc, i.complete && i.naturalWidth > 0])"
    )
    assert len(images) >= 2
    assert [src for src, loaded in images if not loaded] == []
    assert all(src.startswith(site_server.url) for src, _ in images), images
    assert_policy_first(visit)
    visit.assert_private()
    assert_nothing_stored(visit)


def test_search_finds_posts_without_leaving_our_origin(visit: Visit) -> None:
    """The search page (pagefind: a module, a web worker and WebAssembly) answers from our own
    index; its policy allows compiling WebAssembly and nothing else."""
    visit.goto("suche/")
    visit.page.locator("#aushang-search-input").fill(SEARCH_TERM)
    visit.page.keyboard.press("Enter")
    results = visit.page.locator(".aushang-search__result")
    results.first.wait_for(timeout=15_000)
    assert results.count() > 0
    assert SEARCH_TERM.lower() in visit.page.locator("#aushang-search-results").inner_text().lower()
    visit.settle()
    assert any("/pagefind/" in url and url.endswith(".pagefind") for url in visit.requests)
    assert any("/pagefind/" in url and "/fragment/" in url for url in visit.requests)
    assert_policy_first(visit)
    visit.assert_private()
    assert_nothing_stored(visit)


def test_not_found_page_stays_on_our_origin(visit: Visit) -> None:
    """A missing page answers 404 with our 404 page, which loads nothing from elsewhere."""
    response = visit.goto("gibt-es-nicht/auch-nicht/")
    assert response.status == 404
    assert "404" in visit.page.title() or "404" in visit.page.inner_text("body")
    assert_policy_first(visit)
    visit.assert_private()
    assert_nothing_stored(visit)


def test_no_request_carries_a_referrer_or_cookie(visit: Visit, site_server: SiteServer) -> None:
    """Moving between our pages sends no Referer and no Cookie header (referrer: no-referrer)."""
    visit.goto("")
    before = len(site_server.requests)
    visit.page.locator('main a[href^="beitrag/"]').first.click()
    visit.settle()
    later = site_server.requests[before:]
    assert later, "the click loaded no page"
    assert [r.path for r in later if "referer" in r.headers or "cookie" in r.headers] == []
    visit.assert_private()


def test_the_guards_see_what_they_guard_against(
    chromium: Any, site_server: SiteServer, tmp_path: Path
) -> None:
    """Controls: the request guard catches a third-party image on a page without our policy,
    and on our page the policy blocks one and the violation is reported."""
    from tests.browser import SiteServer, open_visit

    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="de"><head><title>ohne Richtlinie</title></head><body>'
        '<img src="https://tracker.example/pixel.gif" alt=""></body></html>',
        encoding="utf-8",
    )
    with SiteServer(tmp_path) as bare, open_visit(chromium, bare.url) as unprotected:
        unprotected.goto("")
        assert unprotected.external == ["https://tracker.example/pixel.gif"]
        assert unprotected.csp_violations == []
    with open_visit(chromium, site_server.url) as protected:
        protected.goto("")
        blocked = protected.page.evaluate(
            """() => new Promise((resolve) => {
                 document.addEventListener("securitypolicyviolation",
                   (event) => resolve(event.blockedURI), { once: true });
                 const image = new Image();
                 image.src = "https://tracker.example/p.gif";
                 document.body.append(image);
               })"""
        )
        assert blocked == "https://tracker.example/p.gif"
        assert protected.external == []  # the policy stopped it before the network
        assert any(re.search(r"img-src.*tracker\.example", v) for v in protected.csp_violations)
