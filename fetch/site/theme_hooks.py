"""An mkdocs hook file (https://www.mkdocs.org/user-guide/configuration/#hooks) that repairs
the bits of mkdocs-material's markup the Nu HTML Checker rejects, as each page is written, and
drops the theme's indentation (a quarter of a post page's bytes; pages are most of the site).

``fetch.site.build`` adds this file to the generated ``build/mkdocs.yml``; it uses only mkdocs'
own events, and each repair is a no-op when the theme's markup changes, so nothing breaks when
the theme does. ``tests/test_accessibility.py`` runs the checker over every built page.

- ``<input type="checkbox" autocomplete="off">``: the drawer and search toggles. The HTML
  standard allows ``autocomplete`` only on text-like inputs.
- ``<label … tabindex="">``: the label of a nested nav section. An empty tabindex is not a
  valid integer; without the attribute the label behaves the same (it is not focusable).
- the menu checkbox (``data-md-toggle="drawer"``), which ``docs/stylesheets/aushang.css``
  keeps reachable by keyboard on narrow screens, gets a name of its own
  (``aria-label="Navigation"``) instead of the site title its labels would give it.
- ``<th style="text-align: right">``: python-markdown's tables align columns with inline
  styles, which the site's Content-Security-Policy blocks (no 'unsafe-inline'); they become
  classes (``aushang-align-right``) that ``docs/stylesheets/aushang.css`` styles.
- ``<label for="__toc">``, the title of the table of contents, on a page that is not in the
  nav: the checkbox it names is rendered only inside the nav entry of the current page, so
  the label points at nothing. It stays, as a plain title.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Whitespace is kept as it is inside these elements; elsewhere a line's indentation and blank
# lines render exactly like the single line break left in their place.
VERBATIM = re.compile(r"(<(pre|script|style|textarea)\b.*?</\2\s*>)", re.IGNORECASE | re.DOTALL)
_INDENTED_LINES = re.compile(r"\n[ \t\n\r]+")
_CHECKBOX_AUTOCOMPLETE = re.compile(r'(<input\b[^>]*type="checkbox"[^>]*?) autocomplete="off"')
_EMPTY_TABINDEX = re.compile(r'(<label\b[^>]*?) tabindex=""')
_ALIGN_STYLE = re.compile(r'(<t[hd]\b[^>]*?) style="text-align: ?(left|right|center);?"')


def repair(html: str) -> str:
    html = html.replace(
        '<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer"',
        '<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" '
        'aria-label="Navigation"',
    )
    html = _CHECKBOX_AUTOCOMPLETE.sub(r"\1", html)
    html = _EMPTY_TABINDEX.sub(r"\1", html)
    html = _ALIGN_STYLE.sub(r'\1 class="aushang-align-\2"', html)
    if 'id="__toc"' not in html:
        html = html.replace(
            '<label class="md-nav__title" for="__toc">', '<label class="md-nav__title">'
        )
    return compact(html)


def compact(html: str) -> str:
    """Drop indentation and blank lines outside pre, script, style and textarea."""
    return outside_verbatim(html, lambda part: _INDENTED_LINES.sub("\n", part))


def outside_verbatim(html: str, change: Callable[[str], str]) -> str:
    """``html`` with ``change`` applied to everything outside pre, script, style and
    textarea elements (:data:`VERBATIM`), whose whitespace counts."""
    parts = VERBATIM.split(html)
    # split() gives the text between matches, and for each match the element and its tag name
    return "".join(
        change(part) if index % 3 == 0 else part
        for index, part in enumerate(parts)
        if index % 3 != 2
    )


def on_post_page(output: str, page: Any, config: Any) -> str:
    return repair(output)


def on_post_template(output_content: str, template_name: str, config: Any) -> str:
    return repair(output_content)
