"""Post text as the site shows it: hashtags link to our own pages, every outgoing link names
its destination host. Pure string work, no I/O.

The archived ``text_html`` is already sanitized by ``fetch.clean.html`` (nh3 writes every
attribute double-quoted and escaped, and anchors never nest), so links can be found with a
regular expression instead of a full HTML parse, which matters at 100,000 posts.

- A Mastodon hashtag ``<a class="mention hashtag" href="https://instance/tags/x">#<span>X</span></a>``
  and the ``<span class="hashtag">#X</span>`` that ``linkify_text`` makes for plain-text
  platforms both become ``<a class="aushang-hashtag" href="…/hashtag/x/">#X</a>``: a reader
  stays on the archive instead of landing on a platform's tracking-heavy tag page.
- After every other ``http(s)`` link, a small label ``(musterstadt.de)`` says where it leads.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from html import escape, unescape
from urllib.parse import urlsplit

_ANCHOR = re.compile(r"<a\b(?P<attributes>[^>]*)>(?P<inner>.*?)</a>", re.DOTALL)
_HASHTAG_SPAN = re.compile(r'<span class="hashtag">#(?P<tag>[^<]+)</span>')
_ATTRIBUTE = re.compile(r'(?P<name>[a-zA-Z_:-]+)="(?P<value>[^"]*)"')
_TAGS = re.compile(r"<[^>]+>")
_HASHTAG_TEXT = re.compile(r"^#(?P<tag>\w+)$")
# Platforms' tag pages: /tags/x (Mastodon), /hashtag/x (Bluesky, Facebook, LinkedIn, X),
# /explore/tags/x (Instagram), or a search for "#x" (%23 encoded).
_TAG_PAGE = re.compile(r"/(?:tags?|hashtags?|explore/tags)/|[?&]q=%23", re.IGNORECASE)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

TagUrl = Callable[[str], str | None]


def hashtag_key(tag: str) -> str:
    """The form under which spellings of one hashtag are grouped: ``#ÖPNV`` and ``öpnv`` alike."""
    return unicodedata.normalize("NFC", tag.lstrip("#")).casefold()


@functools.lru_cache(maxsize=4096)
def hashtag_slug(tag: str) -> str:
    """A URL-safe folder name for a hashtag: ASCII where the tag allows, else a short hash."""
    key = hashtag_key(tag)
    ascii_form = unicodedata.normalize("NFKD", key.translate(_GERMAN))
    ascii_form = "".join(c for c in ascii_form if c.isascii() and (c.isalnum() or c == "_"))
    ascii_form = ascii_form.replace("_", "-").strip("-")
    if ascii_form and len(ascii_form) <= 80:
        return ascii_form
    return "t-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def host_of(url: str) -> str:
    """``musterstadt.de`` for ``https://www.musterstadt.de/x``; "" when the URL has no host."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def host_label(url: str) -> str:
    """The visually distinct host label the site puts beside an outgoing link."""
    host = host_of(url)
    return f' <span class="aushang-host">({escape(host)})</span>' if host else ""


def hashtags_in(html: str) -> list[str]:
    """The hashtags a post's HTML shows, as written (``#ÖPNV`` gives ``ÖPNV``)."""
    found: list[str] = []
    for match in _ANCHOR.finditer(html):
        tag = _anchor_hashtag(match)
        if tag:
            found.append(tag)
    found.extend(unescape(m.group("tag")) for m in _HASHTAG_SPAN.finditer(html))
    return found


def rewrite_links(html: str, tag_url: TagUrl) -> str:
    """Point hashtags at ``tag_url(tag)`` (plain text where it gives None); label other links."""

    def anchor(match: re.Match[str]) -> str:
        tag = _anchor_hashtag(match)
        if tag is not None:
            return _hashtag(tag, tag_url)
        attributes = dict(_ATTRIBUTE.findall(match.group("attributes")))
        href = unescape(attributes.get("href", ""))
        if href.lower().startswith(("http://", "https://")):
            return match.group(0) + host_label(href)
        return match.group(0)

    html = _ANCHOR.sub(anchor, html)
    return _HASHTAG_SPAN.sub(lambda m: _hashtag(unescape(m.group("tag")), tag_url), html)


_HEADING = re.compile(r"<(/?)h([1-6])\b")


def shift_headings(html: str, top: int) -> str:
    """Renumber the headings of a post's text so its highest one is ``h<top>``.

    A city's website feed may start its text with an ``h3``; under the page's ``h1`` that
    would skip a level (WCAG 1.3.1, the Nu HTML Checker flags it).
    """
    levels = [int(m.group(2)) for m in _HEADING.finditer(html)]
    if not levels or min(levels) == top:
        return html
    shift = top - min(levels)
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + shift)}", html)


def _anchor_hashtag(match: re.Match[str]) -> str | None:
    """The tag an anchor links to, if it is a hashtag link (by class or by its text)."""
    attributes = dict(_ATTRIBUTE.findall(match.group("attributes")))
    classes = attributes.get("class", "").split()
    text = unescape(_TAGS.sub("", match.group("inner"))).strip()
    found = _HASHTAG_TEXT.match(text)
    if found is None:
        return None
    href = unescape(attributes.get("href", ""))
    if "hashtag" in classes or _TAG_PAGE.search(href):
        return found.group("tag")
    return None


def _hashtag(tag: str, tag_url: TagUrl) -> str:
    url = tag_url(tag)
    text = escape(f"#{tag}", quote=False)
    if url is None:
        return f'<span class="aushang-hashtag">{text}</span>'
    return f'<a class="aushang-hashtag" href="{escape(url)}">{text}</a>'
