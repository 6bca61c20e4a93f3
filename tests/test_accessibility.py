"""Accessibility of the built Musterstadt site (WCAG 2.1 AA, as BITV 2.0 requires), proven in
headless Chromium and with the Nu HTML Checker:

- axe-core (tags wcag2a, wcag2aa, wcag21a, wcag21aa) finds nothing on every page type, in the
  light and in the dark colour scheme;
- the Nu HTML Checker finds no error in any built page;
- no horizontal scrolling at 320 CSS pixels, even with a 200-character URL and a long hashtag;
- every control on the home page is reachable with the Tab key and shows a visible focus;
- at 320 CSS pixels the nav works from the keyboard: the theme's drawer on a static page, the
  wrapped tabs on a generated one (which has no drawer, ``fetch.site.lean``);
- with "reduce motion" nothing animates; nothing plays by itself.

axe-core and vnu-jar come from npm, pinned in tests/package-lock.json; ``make test`` installs
them into tests/node_modules (target ``test-tools``). Without them (or without Java) these
tests skip on a developer's machine and fail in CI, like the browser tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fetch.archive import Archive, slug

if TYPE_CHECKING:
    from tests.browser import SiteServer

pytest_plugins = ["tests.browser"]

TOOLS = Path(__file__).parent / "node_modules"
AXE = TOOLS / "axe-core" / "axe.min.js"
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCHEMES = {"light": "default", "dark": "slate"}  # prefers-color-scheme -> material's scheme

# Every page type of the demo site, by a path relative to the site root.
PAGES = {
    "home": "",
    "page 1": "konto/stadt/seite/1/",
    "post with images": "beitrag/stadt/112400000000000113/",
    "thread post": "beitrag/stadt/112400000000000127/",
    "post with content warning": "beitrag/feuerwehr/112400000000000115/",
    "poll post": "beitrag/stadt/112400000000000107/",
    "boost": "beitrag/stadt/112400000000000117/",
    "post with long URL and hashtag": "beitrag/stadt/112400000000000119/",
    "account page": "konto/stadt/",
    "accounts overview": "konto/",
    "platform page": "plattform/mastodon/",
    "hashtag page": "hashtag/stadtfest/",
    "hashtags overview": "hashtag/",
    "month page": "archiv/2026/06/",
    "archive overview": "archiv/",
    "search page with results": "suche/?q=Stadtfest",
    "about": "about/",
    "impressum": "about/impressum/",
    "datenschutz": "about/datenschutz/",
    "barrierefreiheit": "about/barrierefreiheit/",
    "leichte sprache": "about/leichte-sprache/",
    "subscribe": "technik/abonnieren/",
    "404": "gibt-es-nicht/",
}


def require(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{path} is missing: run `make test-tools` to install {what}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _archive(site: Path) -> Archive:
    return Archive(site.parent / "demo" / "archive")


def _first(site: Path, wanted: Any) -> str | None:
    for post in sorted(_archive(site).iter_posts(), key=lambda p: p.id):
        if wanted(post):
            return f"beitrag/{post.account}/{slug(post.native_id)}/"
    return None


@pytest.fixture(scope="module")
def pages(demo_site: Path) -> dict[str, str]:
    """The fixed page types, plus posts of the other platforms' kinds where the demo has them."""
    found = dict(PAGES)
    extra = {
        "post with a quote": lambda p: p.quote is not None,
        "post with a video poster": lambda p: any(m.kind == "video" for m in p.media),
        "post with a link card": lambda p: p.card is not None and p.card.image is not None,
        "post with a title": lambda p: bool(p.title),
        "post in another language": lambda p: p.language not in (None, "de"),
    }
    for name, wanted in extra.items():
        path = _first(demo_site, wanted)
        if path:
            found[name] = path
    return found


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return {
              passes: r.passes.length,
              violations: r.violations.map(v => ({
                id: v.id, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary)
              }))
            };
        }""",
        AXE_TAGS,
    )
    assert result["passes"] > 10, "axe-core did not run"
    violations: list[dict[str, Any]] = result["violations"]
    return violations


@pytest.fixture
def browser_page(chromium: Any, site_server: SiteServer) -> Iterator[Any]:
    from tests.browser import open_visit

    with open_visit(chromium, site_server.url) as visit:
        yield visit


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_axe_finds_no_violation_on_any_page_type(
    scheme: str, pages: dict[str, str], browser_page: Any
) -> None:
    require(AXE, "axe-core")
    page = browser_page.page
    page.emulate_media(color_scheme=scheme)
    failures = {}
    for name, path in pages.items():
        browser_page.goto(path)
        if "search" in name:
            page.locator(".aushang-search__result").first.wait_for(timeout=15_000)
        shown = page.evaluate("document.body.dataset.mdColorScheme")
        assert shown == SCHEMES[scheme], (name, shown)
        violations = axe_violations(page)
        if violations:
            failures[f"{name} ({path})"] = violations
    assert failures == {}, json.dumps(failures, indent=1, ensure_ascii=False)
    browser_page.assert_private()


def test_the_html_checker_finds_no_error(demo_site: Path) -> None:
    require(VNU, "the Nu HTML Checker (vnu-jar)")
    java = shutil.which("java")
    if java is None:
        if os.environ.get("CI"):
            pytest.fail("java is missing: the Nu HTML Checker needs it")
        pytest.skip("java is missing: the Nu HTML Checker needs it")
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", "--skip-non-html",
         str(demo_site)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    messages = json.loads(result.stderr or "{}").get("messages", [])
    checked = len(list(demo_site.rglob("*.html")))
    assert checked > 50
    shown = [f"{m.get('url', '')}:{m.get('lastLine', '')}: {m.get('message')}" for m in messages]
    assert shown == [], "\n".join(shown[:40])


def test_no_horizontal_scrolling_at_320_css_pixels(
    pages: dict[str, str], browser_page: Any
) -> None:
    page = browser_page.page
    page.set_viewport_size({"width": 320, "height": 640})
    too_wide = {}
    for name, path in pages.items():
        browser_page.goto(path)
        if "search" in name:
            page.locator(".aushang-search__result").first.wait_for(timeout=15_000)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            culprit = page.evaluate(
                """() => [...document.querySelectorAll("body *")]
                    .filter(e => e.getBoundingClientRect().right > 321)
                    .slice(-3).map(e => e.outerHTML.slice(0, 120))"""
            )
            too_wide[name] = (width, culprit)
    assert too_wide == {}


FOCUS_SCRIPT = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    // material's palette switch is a visually hidden radio; the label after it is the button
    const styled = el.matches(".md-option") && el.nextElementSibling ? el.nextElementSibling : el;
    const style = getComputedStyle(styled);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== "none";
    return {key: el.dataset.kb || (styled.dataset && styled.dataset.kb) || "",
            html: el.outerHTML.slice(0, 100), visible: outline || shadow};
}"""

MARK_FOCUSABLE = """() => {
    const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
        + "[tabindex]:not([tabindex='-1'])";
    let n = 0;
    const keys = [];
    for (const el of document.querySelectorAll(selector)) {
        if (el.disabled) continue;
        const target = el.matches(".md-option") ? el.nextElementSibling : el;
        if (!target || !target.checkVisibility({visibilityProperty: true})) continue;
        const box = target.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        el.dataset.kb = String(n);
        keys.push(String(n));
        n += 1;
    }
    return keys;
}"""


def test_every_control_on_the_home_page_is_reachable_by_keyboard_with_a_visible_focus(
    browser_page: Any,
) -> None:
    page = browser_page.page
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_page.goto("")
    expected = set(page.evaluate(MARK_FOCUSABLE))
    assert len(expected) > 40
    reached: set[str] = set()
    invisible = []
    for _ in range(len(expected) * 2 + 20):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_SCRIPT)
        if state is None:
            continue
        if state["key"] in reached:
            break  # the focus went round once
        reached.add(state["key"])
        if not state["visible"]:
            invisible.append(state["html"])
    assert invisible == []
    assert expected - reached == set(), [
        page.evaluate(f"document.querySelector('[data-kb=\"{key}\"]').outerHTML.slice(0, 100)")
        for key in sorted(expected - reached)[:10]
    ]


MOTION_SCRIPT = """() => {
    const moving = [];
    for (const el of document.querySelectorAll("*")) {
        const style = getComputedStyle(el);
        const transition = style.transitionDuration.split(",").some(d => parseFloat(d) > 0);
        const animation = style.animationName !== "none"
            && style.animationDuration.split(",").some(d => parseFloat(d) > 0);
        if (transition || animation) moving.push(el.outerHTML.slice(0, 80));
    }
    return {moving: moving.slice(0, 10), running: document.getAnimations().length};
}"""


def test_nothing_moves_when_the_reader_asks_for_reduced_motion(browser_page: Any) -> None:
    page = browser_page.page
    page.emulate_media(reduced_motion="reduce")
    for path in ("", "beitrag/stadt/112400000000000113/", "suche/?q=Stadtfest"):
        browser_page.goto(path)
        page.keyboard.press("Tab")
        page.mouse.move(200, 200)
        state = page.evaluate(MOTION_SCRIPT)
        assert state == {"moving": [], "running": 0}, (path, state)


def test_nothing_plays_by_itself(demo_site: Path, pages: dict[str, str], browser_page: Any) -> None:
    for page in demo_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8").lower()
        assert "autoplay" not in text, page
        assert "<audio" not in text, page
    video = pages.get("post with a video poster", PAGES["home"])
    browser_page.goto(video)
    assert browser_page.page.evaluate("document.querySelectorAll('video, audio').length") == 0


def test_the_menu_on_a_narrow_screen_opens_from_the_keyboard(browser_page: Any) -> None:
    """At 320 px (or 400 % zoom) a static page's nav is in the theme's drawer behind the menu
    button: Tab reaches the button first, Space opens the drawer, and Tab goes on into the
    nav."""
    page = browser_page.page
    page.set_viewport_size({"width": 320, "height": 640})
    browser_page.goto("about/impressum/")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.id, document.activeElement.ariaLabel]")
    assert focused == ["__drawer", "Navigation"]
    ring = page.evaluate(
        "getComputedStyle(document.querySelector('.md-header__button[for=__drawer]')).outlineStyle"
    )
    assert ring != "none"
    page.keyboard.press("Space")
    assert page.evaluate("document.getElementById('__drawer').checked") is True
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert "Archiv" in reached


NARROW_FOCUS_SCRIPT = """() => {
    const el = document.activeElement;
    const box = el.getBoundingClientRect();
    return {text: el.textContent.trim(), tab: el.matches(".md-tabs__link"),
            logo: el.matches(".md-header .md-logo"),
            inside: box.left >= 0 && box.right <= innerWidth && box.top >= 0
                && box.bottom <= innerHeight && box.width > 0 && box.height > 0,
            ring: getComputedStyle(el).outlineStyle !== "none"};
}"""


@pytest.mark.parametrize("path", ["beitrag/stadt/112400000000000113/", "archiv/", ""])
def test_the_tabs_on_a_narrow_screen_are_reachable_from_the_keyboard(
    path: str, browser_page: Any
) -> None:
    """At 320 px a generated page (post, overview, home) has no drawer: the logo and the tabs
    stay in view, the tabs wrapped onto several lines, and Tab reaches each of them first,
    visible and with a focus ring; Enter follows the link."""
    page = browser_page.page
    page.set_viewport_size({"width": 320, "height": 640})
    browser_page.goto(path)
    tabs = page.evaluate(
        "[...document.querySelectorAll('.md-tabs__link')].map(e => e.textContent.trim())"
    )
    assert len(tabs) >= 5 and "Hashtags" in tabs
    assert page.evaluate("document.querySelector('#__drawer, label[for=__drawer]')") is None
    stops = []
    for _ in range(len(tabs) + 1):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(NARROW_FOCUS_SCRIPT))
    assert [stop for stop in stops if not (stop["inside"] and stop["ring"])] == []
    assert stops[0]["logo"], stops[0]
    assert [stop["text"] for stop in stops[1:] if stop["tab"]] == tabs
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.locator(".md-tabs__link", has_text="Hashtags").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/hashtag/")
