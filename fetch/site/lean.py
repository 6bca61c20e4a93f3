"""The lean frame of the generated pages: what mkdocs-material's page carries for its own
JavaScript, taken out once per frame (``fetch.site.shell.cut_frames``), before the privacy
policy is set.

A post page was mostly frame: of 14 KB, 10.5 KB were the theme's, and there are as many post
pages as posts (issue 8: at most 8 KB of HTML per post, averaged over the site). The generated
pages need none of the theme's scripts: they have no theme search, no content tabs, no code to
copy, no table of contents. So their frame keeps what the reader sees (the header with logo and
site name, the tabs, the content, the footer with the legal links) and loses:

- the theme's scripts: ``bundle.js``, its ``__config`` (search and clipboard translations),
  the inline scripts (``__md_scope``, the palette restore, the content-tab restore) and with
  them their hashes in the Content-Security-Policy; the ``data-md-component`` hooks they look
  for, the ``md-dialog`` they write into, the ``generator`` meta tag;
- the palette form (two radio buttons, two labels with SVG icons): the colour scheme follows
  ``prefers-color-scheme`` through ``docs/javascripts/farbschema.js``, loaded as the first
  element of ``<body>``, which sets the palette's attributes on ``<body>`` as the theme's
  palette does and follows a change of the system's setting. It knows the theme's usual
  palette (light ``default``, dark ``slate``); another palette in ``mkdocs.yml`` is handed
  to it in ``data-palette`` (:func:`scheme_script`);
- the drawer (its checkbox, the overlay, the menu button; the navigation copy inside it) and
  the search toggle: below the theme's breakpoint ``docs/stylesheets/aushang.css`` keeps the
  tabs (wrapped onto as many lines as they need) and the logo for pages whose ``<body>`` has
  :data:`LEAN_CLASS`; a primary sidebar the page shows on a wide screen (the overviews) stays
  there and is hidden on a narrow one;
- sidebars the page hides anyway (``hide: navigation``/``toc``), the header's second title
  (the page title the theme's script shows after scrolling), empty skip and announce slots;
- the site's feed announcements (``<link rel="alternate">``): the build puts them into every
  generated page but a post's own;
- the drawing of the logo's inline SVG (0.3 KB on every page): it moves into a file,
  :data:`LOGO_FILE` (:func:`logo_svg`, written beside the theme's assets), and the header's
  ``<svg>`` keeps only a ``<use>`` of it. The page itself asks for the file, so its
  ``no-referrer`` policy holds (a CSS mask would be fetched by the stylesheet, with a
  Referer), and the drawing takes the header's colour as the inline one did.

Static pages (``docs/``: Impressum, ...) keep the theme's full frame, their section sidebar
in the drawer and the palette toggle included. Each removal finds its element by what the
theme's markup means (a ``data-md-*`` hook, a class, a ``label for`` that names a removed
control) and does nothing when the theme stops producing it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.dammit import EntitySubstitution
from bs4.element import NavigableString
from bs4.formatter import HTMLFormatter

from .theme_hooks import compact, outside_verbatim

LEAN_CLASS = "aushang-lean"
# mkdocs-material's own scripts live under assets/javascripts/ (the bundle, the search worker);
# ours under javascripts/ (the search page's suche.js) stay.
THEME_SCRIPTS = "assets/javascripts/"
SCHEME_SCRIPT = "javascripts/farbschema.js"
LOGO_FILE = "assets/aushang-logo.svg"  # the header's <use> of the logo refers to it
LOGO_ID = "aushang-logo"  # the <symbol> in LOGO_FILE
# The theme's logo icon, as mkdocs-material writes it into the header (an inline SVG; a logo
# image file of the city's own stays as it is). Read from the page's text, not from a parsed
# tree: an HTML parser lowercases "viewBox", which a standalone SVG file needs as it is.
_LOGO_SVG = re.compile(
    r'<a\b[^>]*\bclass="md-header__button md-logo"[^>]*>\s*(<svg\b.*?</svg>)', re.DOTALL
)
# The palette option that means "follow the system" (material's automatic toggle) names no
# scheme of its own.
AUTOMATIC_MEDIA = "(prefers-color-scheme)"
PALETTE_KEYS = ("scheme", "primary", "accent")  # <body data-md-color-scheme=... >
# What farbschema.js does without data-palette (the same JSON is written there).
USUAL_PALETTE: list[Any] = [
    ["(prefers-color-scheme: light)", {"scheme": "default"}],
    ["(prefers-color-scheme: dark)", {"scheme": "slate"}],
]


# Elements a browser lays out as blocks (or does not render): a line break next to their
# start or end tag is not rendered (whitespace collapses at the start and end of a line, and
# between the items of a flex container, as the theme's tabs and footer are).
_BLOCK_TAG = (
    r"</?(?:address|article|aside|blockquote|body|details|div|dl|dd|dt|fieldset|figcaption|"
    r"figure|footer|form|h[1-6]|head|header|hr|html|li|link|main|meta|nav|noscript|ol|p|"
    r"section|summary|table|tbody|td|tfoot|th|thead|title|tr|ul)(?=[\s/>])"
)
_BREAK_BEFORE_BLOCK = re.compile(rf"[ \t\r]*\n[ \t\r\n]*(?={_BLOCK_TAG})", re.IGNORECASE)
_BREAK_AFTER_BLOCK = re.compile(rf"({_BLOCK_TAG}[^<>]*>)[ \t\r]*\n[ \t\r\n]*", re.IGNORECASE)


class _SourceOrder(HTMLFormatter):
    """HTML out as it came in: attributes in their order, empty ones as bare names (``hidden``,
    ``defer``), void elements without ``/``, and only ``&``, ``<`` and ``>`` escaped (no named
    entities for umlauts)."""

    def __init__(self) -> None:
        super().__init__(
            entity_substitution=EntitySubstitution.substitute_xml,
            void_element_close_prefix="",
        )

    def attributes(self, tag: Tag) -> Any:
        return [(key, None if value == "" else value) for key, value in tag.attrs.items()]


_FORMATTER = _SourceOrder()


def lean_page(page: str, url: str) -> str:
    """The theme's page at ``url`` (a placeholder) without what only the theme's JavaScript
    uses."""
    soup = BeautifulSoup(page, "html.parser")
    body = soup.body
    if body is None:
        return page
    palette = scheme_palette(soup)
    removed: set[str] = set()
    for element in _theme_only(soup):
        if element.decomposed:  # inside one removed before
            continue
        removed.update(
            str(tag["id"]) for tag in [element, *element.find_all(id=True)] if tag.get("id")
        )
        element.decompose()
    for label in soup.find_all("label", attrs={"for": True}):
        if label["for"] in removed:  # the menu button, the overlay, the drawer's title
            label.decompose()
    for tag in soup.select("[data-md-component]"):
        del tag["data-md-component"]
    logo = soup.select_one(".md-header a.md-logo > svg")
    if logo is not None and logo_svg(page) is not None:
        logo.clear()
        href = "../" * url.count("/") + LOGO_FILE + "#" + LOGO_ID
        logo.append(soup.new_tag("use", attrs={"href": href}))
    # a line break at the start or end of a line is not rendered: the tabs' and the header's
    # names and the logo's link lose theirs (20 bytes a page)
    for tag in soup.select(".md-tabs__link, .md-header__topic .md-ellipsis, a.md-logo"):
        _trim_edges(tag)
    if soup.head is not None:  # nothing in <head> is rendered, its line breaks neither
        for text in soup.head.find_all(string=True, recursive=False):
            if not text.strip():
                text.extract()
    classes = [str(name) for name in body.get_attribute_list("class") if name]
    body["class"] = " ".join([*classes, LEAN_CLASS])
    if palette is not None:
        script = soup.new_tag("script", src="../" * url.count("/") + SCHEME_SCRIPT)
        if palette != USUAL_PALETTE:
            script["data-palette"] = json.dumps(palette, ensure_ascii=False, separators=(",", ":"))
        body.insert(0, script)
    return drop_block_breaks(compact(soup.decode(formatter=_FORMATTER)))


def drop_block_breaks(html: str) -> str:
    """``html`` without the line breaks next to a block element's start or end tag, outside
    pre, script, style and textarea: a browser renders none of them. About 100 bytes of every
    generated page's frame; our templates are read through it too (``fetch.site.render``).
    Only line breaks go, so a space between two words or inline elements stays, and so does a
    line break between two inline elements."""
    return outside_verbatim(
        html, lambda part: _BREAK_AFTER_BLOCK.sub(r"\1", _BREAK_BEFORE_BLOCK.sub("", part))
    )


def _trim_edges(tag: Tag) -> None:
    """No whitespace at the start and end of ``tag``'s content."""
    for index, strip in ((0, str.lstrip), (-1, str.rstrip)):
        text = tag.contents[index] if tag.contents else None
        if isinstance(text, NavigableString):
            if strip(text):
                text.replace_with(strip(text))
            else:
                text.extract()


def logo_svg(page: str) -> str | None:
    """The header's logo icon of the theme's ``page`` as an SVG file: the drawing as a
    ``<symbol>`` (:data:`LOGO_ID`) for the pages' ``<use>``, shown once so the file can be
    opened on its own. None when the header has no inline SVG logo."""
    match = _LOGO_SVG.search(page)
    if match is None:
        return None
    parts = re.fullmatch(r"<svg\b([^>]*)>(.*)</svg>", match.group(1), re.DOTALL)
    if parts is None:
        return None
    box = re.search(r'\bviewBox="([^"]*)"', parts.group(1))
    view_box = f' viewBox="{box.group(1)}"' if box else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"{view_box}>'
        f'<symbol id="{LOGO_ID}"{view_box}>{parts.group(2)}</symbol>'
        f'<use href="#{LOGO_ID}"/></svg>\n'
    )


def scheme_palette(soup: BeautifulSoup) -> list[Any] | None:
    """The theme's palette options as ``[[media query, {"scheme": ..., ...}], ...]``, with
    only the attributes that differ between them; None when there is no choice to make (one
    option, or options that differ in nothing)."""
    options = []
    for option in soup.select("input.md-option[data-md-color-media]"):
        media = str(option["data-md-color-media"]).strip()
        if media and media != AUTOMATIC_MEDIA:
            colours = {key: option.get(f"data-md-color-{key}") for key in PALETTE_KEYS}
            options.append((media, {k: str(v) for k, v in colours.items() if v is not None}))
    varying = [key for key in PALETTE_KEYS if len({c.get(key) for _, c in options}) > 1]
    if not varying:
        return None
    return [
        [media, {k: v for k, v in colours.items() if k in varying}] for media, colours in options
    ]


def _theme_only(soup: BeautifulSoup) -> list[Tag]:
    """The elements only the theme's JavaScript uses, or that the page hides anyway."""
    found: list[Tag] = []
    found += soup.select('meta[name="generator"]')
    # the site's feeds: the build announces them on each page but a post's own (build.py,
    # feed_head_links)
    found += soup.select('head link[rel="alternate"]')
    for script in soup.find_all("script"):
        source = str(script.get("src") or "")
        if not source or THEME_SCRIPTS in source:
            # every inline one is the theme's (__config, __md_scope, palette, content tabs):
            # ours are files, as the policy allows no 'unsafe-inline'
            found.append(script)
    found += soup.select('[data-md-component="palette"]')
    found += soup.select("input[data-md-toggle]")  # the drawer's and the search's checkboxes
    found += soup.select('[data-md-component="header-topic"]')
    found += soup.select('[data-md-component="dialog"]')
    found += soup.select(".md-sidebar[hidden]")
    for slot in soup.select('[data-md-component="skip"], [data-md-component="announce"]'):
        if slot.find(True) is None:
            found.append(slot)
    return found
