"""The lean frame of the generated pages (``fetch.site.lean``): a post page carries at most 4 KB
of HTML besides its post, none of the theme's scripts, and still shows the dark scheme when the
system asks for it; the static pages keep the theme's full frame."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fetch.site.lean import LEAN_CLASS, LOGO_FILE, SCHEME_SCRIPT, USUAL_PALETTE, lean_page

if TYPE_CHECKING:
    from tests.browser import SiteServer, Visit

pytest_plugins = ["tests.browser"]

ROOT = Path(__file__).resolve().parents[1]
FRAME_LIMIT = 3584  # bytes of a post page outside its post (issue 8: 8 KB per post in all)
CONTENT_START = '<article class="md-content__inner md-typeset">'
POST = "beitrag/stadt/112400000000000113/"
GENERATED = [
    POST,
    "",
    "konto/stadt/seite/1/",
    "archiv/",
    "archiv/2026/06/",
    "konto/stadt/",
    "suche/",
]
STATIC = "about/impressum/"


def frame_bytes(page: str) -> int:
    """The bytes of a built page outside its content: head, header, tabs, footer."""
    start = page.index(CONTENT_START) + len(CONTENT_START)
    end = page.rindex("</article>", 0, page.index("</main>"))
    return len(page.encode()) - len(page[start:end].encode())


def read(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_every_post_page_carries_at_most_3_5_kb_besides_its_post(demo_site: Path) -> None:
    """Title, description and canonical URL included; the theme's own page is over 10 KB."""
    pages = sorted(demo_site.glob("beitrag/*/*/index.html"))
    assert len(pages) > 50
    sizes = {p.parent.name: frame_bytes(p.read_text(encoding="utf-8")) for p in pages}
    assert max(sizes.values()) <= FRAME_LIMIT, sorted(sizes.items(), key=lambda i: -i[1])[:3]
    assert frame_bytes(read(demo_site, STATIC)) > 2 * FRAME_LIMIT


@pytest.mark.parametrize("path", GENERATED)
def test_a_generated_page_has_none_of_the_theme_scripts(demo_site: Path, path: str) -> None:
    """No bundle, no __config, no inline script, no palette form, no drawer; our colour scheme
    script first in <body>, and no script hash in the policy."""
    page = read(demo_site, path)
    assert "assets/javascripts/" not in page
    assert 'id="__config"' not in page
    assert re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page) is None
    assert 'data-md-component="palette"' not in page
    assert 'id="__drawer"' not in page and 'for="__drawer"' not in page
    assert "'sha256-" not in page
    body = re.search(r"<body[^>]*>(<[^>]*>)", page)
    assert body is not None and LEAN_CLASS in body.group(0)
    assert body.group(1).startswith("<script src=") and SCHEME_SCRIPT in body.group(1)


@pytest.mark.parametrize("path", GENERATED)
def test_a_generated_page_shows_the_logo_from_a_file(demo_site: Path, path: str) -> None:
    """The header's logo <svg> holds only a <use> of the logo file, not 0.3 KB of drawing on
    every page; a static page keeps the theme's inline drawing."""
    header = re.search(r"<header class=\"md-header\".*?</header>", read(demo_site, path), re.S)
    assert header is not None
    root = "../" * path.count("/")
    assert f'<use href="{root}{LOGO_FILE}#aushang-logo"></use>' in header.group(0)
    assert "<path" not in header.group(0)
    static = re.search(r"<header class=\"md-header\".*?</header>", read(demo_site, STATIC), re.S)
    assert static is not None and "<path" in static.group(0)


def test_the_logo_file_is_the_themes_icon(demo_site: Path) -> None:
    """A standalone SVG with the viewBox as the theme wrote it (an HTML parser would have
    lowercased it) and the drawing of the static page's inline icon as a <symbol>."""
    logo = (demo_site / LOGO_FILE).read_text(encoding="utf-8")
    assert logo.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">')
    assert '<symbol id="aushang-logo" viewBox="0 0 24 24">' in logo
    drawn = re.search(r'<path d="([^"]+)"', logo)
    assert drawn is not None and drawn.group(1) in read(demo_site, STATIC)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_logo_is_drawn_as_on_a_static_page(
    chromium: Any, site_server: SiteServer, scheme: str
) -> None:
    """In Chromium the logo of a post page is drawn in the size and colour of the static
    page's inline icon (the pixels of the header's logo are compared), from our origin."""
    from tests.browser import open_visit

    shots = []
    with open_visit(chromium, site_server.url) as visit:
        visit.page.emulate_media(color_scheme=scheme)
        for path in (STATIC, POST):
            visit.goto(path)
            logo = visit.page.locator(".md-header .md-logo svg")
            box = logo.bounding_box()
            assert box is not None and box["width"] > 10
            shots.append(logo.screenshot())
        assert any(url.endswith("/" + LOGO_FILE) for url in visit.requests)
        visit.assert_private()
    assert shots[0] == shots[1]


def test_the_search_page_still_loads_its_script(demo_site: Path) -> None:
    assert re.search(r'<script src="\.\./javascripts/suche\.js"', read(demo_site, "suche/"))


def test_a_static_page_keeps_the_theme_frame(demo_site: Path) -> None:
    """Impressum & Co.: the drawer with the section's nav, the palette toggle, the bundle."""
    page = read(demo_site, STATIC)
    for part in ('id="__drawer"', 'data-md-component="palette"', 'id="__config"', "bundle."):
        assert part in page, part
    assert LEAN_CLASS not in page


def test_the_colour_scheme_script_knows_the_usual_palette() -> None:
    """farbschema.js falls back to the palette mkdocs.yml sets, so pages need not repeat it."""
    script = (ROOT / "docs" / SCHEME_SCRIPT).read_text(encoding="utf-8")
    assert json.dumps(USUAL_PALETTE, separators=(",", ":")) in script


THEME_PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="generator" content="mkdocs">
<script>var inline=1</script></head>
<body data-md-color-scheme="default" data-md-color-primary="indigo">
<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer">
<label class="md-overlay" for="__drawer"></label>
<header data-md-component="header"><label class="md-header__button" for="__drawer">Menü</label>
<form data-md-component="palette">
<input class="md-option" data-md-color-media="(prefers-color-scheme: light)"
 data-md-color-scheme="default" data-md-color-primary="indigo" type="radio" id="__palette_0">
<input class="md-option" data-md-color-media="(prefers-color-scheme: dark)"
 data-md-color-scheme="slate" data-md-color-primary="teal" type="radio" id="__palette_1">
</form></header>
<div class="md-sidebar" hidden><nav>weg</nav></div>
<article class="md-content__inner">Inhalt: ä &amp; ö</article>
<script id="__config" type="application/json">{}</script>
<script src="../assets/javascripts/bundle.js"></script>
<script src="../javascripts/suche.js" defer></script>
</body></html>
"""


def test_lean_page_removes_what_only_the_theme_script_uses() -> None:
    """Scripts, palette form, drawer with its labels, hidden sidebars go; content and our own
    scripts stay as they were."""
    page = lean_page(THEME_PAGE, "x/")
    for gone in ("generator", "inline", "__drawer", "Menü", "__palette", "weg", "__config",
                 "bundle.js", "data-md-component"):  # fmt: skip
        assert gone not in page, gone
    assert "Inhalt: ä &amp; ö" in page
    assert '<script src="../javascripts/suche.js" defer></script>' in page


def test_lean_page_hands_another_palette_to_the_script() -> None:
    """Colours that differ between the options go into data-palette; the rest stays on body."""
    page = lean_page(THEME_PAGE, "x/y/")
    script = re.search(
        r"<script src=\"\.\./\.\./javascripts/farbschema\.js\" data-palette='([^']*)'", page
    )
    assert script is not None, page
    assert json.loads(script.group(1)) == [
        ["(prefers-color-scheme: light)", {"scheme": "default", "primary": "indigo"}],
        ["(prefers-color-scheme: dark)", {"scheme": "slate", "primary": "teal"}],
    ]


def test_lean_page_leaves_a_page_without_the_theme_parts_alone() -> None:
    """Each removal is a no-op when the theme stops producing its element; no palette, no
    colour scheme script."""
    plain = (
        '<html><head><title>t</title></head><body><p>Text <a href="x">Link</a></p></body></html>'
    )
    page = lean_page(plain, "")
    assert page == plain.replace("<body>", f'<body class="{LEAN_CLASS}">')


def scheme_colours(chromium: Any, server: SiteServer, scheme: str, path: str) -> list[str]:
    """The scheme on <body> and its background colour, in a fresh browser (nothing stored)."""
    from tests.browser import open_visit

    with open_visit(chromium, server.url) as visit:
        visit.page.emulate_media(color_scheme=scheme)
        visit.goto(path)
        colours: list[str] = visit.page.evaluate(COLOURS)
        visit.assert_private()
        return colours


COLOURS = "[document.body.dataset.mdColorScheme, getComputedStyle(document.body).backgroundColor]"


@pytest.mark.parametrize("path", [POST, "", "archiv/"])
def test_the_dark_scheme_follows_the_system_on_a_generated_page(
    chromium: Any, site_server: SiteServer, visit: Visit, path: str
) -> None:
    """In dark mode <body> gets the theme's dark scheme and its colours (those of a static page
    in dark mode), and it follows a change of the system's setting while the page is open."""
    static_dark = scheme_colours(chromium, site_server, "dark", STATIC)
    static_light = scheme_colours(chromium, site_server, "light", STATIC)
    assert static_dark[0] == "slate" and static_light[0] == "default"
    assert static_dark[1] != static_light[1]

    page = visit.page
    page.emulate_media(color_scheme="dark")
    visit.goto(path)
    assert page.evaluate(COLOURS) == static_dark
    page.emulate_media(color_scheme="light")
    # a locator polls without eval (wait_for_function with a string needs 'unsafe-eval')
    page.locator("body[data-md-color-scheme='default']").wait_for(state="attached")
    assert page.evaluate(COLOURS) == static_light
    assert visit.page_errors == []
    assert [line for line in visit.console if line.startswith("error")] == []
    visit.assert_private()


_TAG_PAIR = re.compile(r"(<\/?([a-zA-Z][\w-]*)[^<>]*>)(?=<\/?([a-zA-Z][\w-]*))")
_BLOCK_TAGS = {"li", "ul", "div", "nav", "header", "footer", "main", "article", "p", "h1", "body"}


def with_line_breaks(page: str) -> str:
    """``page`` with a line break between every two adjacent tags one of which is a block,
    and around the names of the tabs and the site in the header, as the theme wrote them."""
    page = re.sub(r'(class="(?:md-tabs__link|md-ellipsis)">)([^<]+)(</)', r"\1\n\2\n\3", page)
    return _TAG_PAIR.sub(
        lambda m: m.group(1) + ("\n" if {m.group(2), m.group(3)} & _BLOCK_TAGS else ""), page
    )


@pytest.mark.parametrize("path", [POST, "", "konto/stadt/seite/1/"])
def test_a_page_without_line_breaks_next_to_blocks_looks_the_same(
    chromium: Any, demo_site: Path, tmp_path: Path, path: str
) -> None:
    """The frame drops the line breaks next to block tags (lean.drop_block_breaks): in Chromium
    the page looks pixel for pixel as with a line break between every two tags where one is a
    block, on a wide and on a narrow screen."""
    from tests.browser import SiteServer, open_visit

    site = tmp_path / "site"
    shutil.copytree(demo_site, site)
    # every image drawn in both, before the screenshot
    page = read(site, path).replace(' loading="lazy"', "").replace(' decoding="async"', "")
    assert "<pre" not in page and "<textarea" not in page
    (site / path / "index.html").write_text(page, encoding="utf-8")
    spaced = with_line_breaks(page)
    assert spaced.count("\n") > page.count("\n") + 50
    assert 'md-tabs__link">\n' in spaced and 'md-tabs__link">\n' not in page
    (site / path / "spaced.html").write_text(spaced, encoding="utf-8")
    with SiteServer(site) as server, open_visit(chromium, server.url) as visit:
        for width, height in ((1280, 900), (375, 800)):
            visit.page.set_viewport_size({"width": width, "height": height})
            shots = []
            for name in ("", "spaced.html"):
                visit.goto(path + name)
                visit.page.wait_for_load_state("networkidle")
                visit.page.evaluate("Promise.all([...document.images].map(i => i.decode()))")
                shots.append(visit.page.screenshot(full_page=True))
            assert shots[0] == shots[1], (path, width)
        visit.assert_private()
