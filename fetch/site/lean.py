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
  (the page title the theme's script shows after scrolling), empty skip and announce slots.

Static pages (``docs/``: Impressum, ...) keep the theme's full frame, their section sidebar
in the drawer and the palette toggle included. Each removal finds its element by what the
theme's markup means (a ``data-md-*`` hook, a class, a ``label for`` that names a removed
control) and does nothing when the theme stops producing it.
"""

from __future__ import annotations

import json
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.dammit import EntitySubstitution
from bs4.formatter import HTMLFormatter

from .theme_hooks import compact

LEAN_CLASS = "aushang-lean"
# mkdocs-material's own scripts live under assets/javascripts/ (the bundle, the search worker);
# ours under javascripts/ (the search page's suche.js) stay.
THEME_SCRIPTS = "assets/javascripts/"
SCHEME_SCRIPT = "javascripts/farbschema.js"
# The palette option that means "follow the system" (material's automatic toggle) names no
# scheme of its own.
AUTOMATIC_MEDIA = "(prefers-color-scheme)"
PALETTE_KEYS = ("scheme", "primary", "accent")  # <body data-md-color-scheme=... >
# What farbschema.js does without data-palette (the same JSON is written there).
USUAL_PALETTE: list[Any] = [
    ["(prefers-color-scheme: light)", {"scheme": "default"}],
    ["(prefers-color-scheme: dark)", {"scheme": "slate"}],
]


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
    return compact(soup.decode(formatter=_FORMATTER))


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
