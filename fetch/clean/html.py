"""Make post text safe to publish: sanitize HTML, turn plain text into HTML, and HTML into text.

Everything the site shows of a post's text passes through here once, when the post is
archived; the site then trusts it (see ``fetch.model``).

- :func:`sanitize_html` keeps the small set of elements Mastodon itself keeps in statuses
  (``app/lib/sanitize_config.rb``, ``MASTODON_STRICT``, https://github.com/mastodon/mastodon),
  plus ``h2``-``h6`` for city websites' feeds. Sanitizing is nh3 (ammonia,
  https://nh3.readthedocs.io/); every ``href`` goes through :func:`fetch.clean.links.clean_url`.
- :func:`linkify_text` turns the plain text of Instagram captions, X posts and Bluesky posts
  into the same kind of HTML, escaping everything it does not build itself.
- :func:`html_to_text` gives plain text for titles, search and feed summaries.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

from .links import clean_url, default_rules

LINK_REL = "nofollow noopener noreferrer"
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_TAGS = frozenset(
    {
        # what Mastodon keeps in a status
        "p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u",
        "i", "em", "ul", "ol", "li", "ruby", "rt", "rp",
        # city websites' feeds structure longer texts with headings (h1 is the page's own)
        "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
# Removed with everything inside: their content is code or markup, never text for a reader.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "template", "svg", "math", "iframe", "noscript", "object", "noembed",
     "noframes", "textarea", "select"}
)  # fmt: skip
_ATTRIBUTES = {
    "*": frozenset({"lang", "dir"}),
    "a": frozenset({"href", "class"}),
    "span": frozenset({"class"}),
    "p": frozenset({"class"}),
    "ol": frozenset({"start", "reversed"}),
    "li": frozenset({"value"}),
}
_ATTRIBUTE_VALUES = {
    # Mastodon marks handles and URLs translate="no" so page translators leave them alone.
    "a": {"translate": frozenset({"no"})},
    "span": {"translate": frozenset({"no"})},
}
# Mastodon's class allowlist, cut to the names its own HTML uses: h-card/u-url/mention on
# mentions, hashtag on hashtags, invisible/ellipsis to shorten long link texts, quote-inline on
# the "RE: link" line of a quote post (hidden where the quote itself is shown). Filtered here
# rather than with nh3's allowed_classes, which leaves an empty class="" behind.
_CLASSES = {
    "a": frozenset({"mention", "hashtag", "u-url", "h-card"}),
    "span": frozenset({"h-card", "mention", "hashtag", "invisible", "ellipsis", "quote-inline"}),
    "p": frozenset({"quote-inline"}),
}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return _safe_href(value)
    if attribute == "class":
        allowed = _CLASSES.get(tag, frozenset())
        kept = [name for name in value.split() if name in allowed]
        return " ".join(kept) if kept else None
    return value


def _safe_href(value: str) -> str | None:
    # nh3 checks url_schemes before this filter runs, on the uncleaned value; clean_url may
    # unwrap a redirector to another scheme, so the scheme is checked again on the result.
    cleaned = clean_url(value)
    scheme, colon, _ = cleaned.partition(":")
    if not colon or scheme.lower() not in LINK_SCHEMES:
        return None  # relative links would point into our own site
    return cleaned


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROPPED_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    tag_attribute_values=_ATTRIBUTE_VALUES,
    link_rel=LINK_REL,
    url_schemes=LINK_SCHEMES,
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Return ``html`` with only allowed markup left and every link cleaned and marked rel."""
    # nh3 swallows errors raised in the attribute filter (and drops the attribute): load the
    # link rules out here, so that a corrupt rules file stops the run instead of every link.
    default_rules()
    return _CLEANER.clean(html)


# ---------------------------------------------------------------------------------------------
# Plain text to HTML

# A URL runs to whitespace or a character that cannot be in one; the end is trimmed below.
_LINK_OR_HASHTAG = re.compile(
    r"(?P<link>\b(?:https?://[^\s<>\"`]+|www\.[^\s<>\"`]+\.[^\s<>\"`]+))"
    r"|(?<![\w/&#])#(?P<hashtag>\w*[^\W\d_]\w*)",
    re.IGNORECASE,
)
# Sentence punctuation and quotation marks (German „…“ and »…« too) that end a text, not a URL.
_TRAILING = ".,:;!?'\"…“”„‘’‚«»›‹"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")
_SCHEME_PREFIX = re.compile(r"^https?://", re.IGNORECASE)


def linkify_text(text: str) -> str:
    """Plain text to HTML: paragraphs, line breaks, cleaned links, hashtag spans; all escaped."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [part.strip("\n") for part in _PARAGRAPH_BREAK.split(normalized)]
    return "".join(
        "<p>" + "<br>".join(_linkify_line(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
        if paragraph.strip()
    )


def _linkify_line(line: str) -> str:
    parts: list[str] = []
    position = 0
    for match in _LINK_OR_HASHTAG.finditer(line):
        parts.append(escape(line[position : match.start()], quote=False))
        position = match.end()
        hashtag = match.group("hashtag")
        if hashtag is not None:
            parts.append(f'<span class="hashtag">#{escape(hashtag, quote=False)}</span>')
            continue
        url, trailing = _split_trailing(match.group("link"))
        parts.append(_link(url))
        parts.append(escape(trailing, quote=False))
    parts.append(escape(line[position:], quote=False))
    return "".join(parts)


def _split_trailing(url: str) -> tuple[str, str]:
    """Split off punctuation that ends the sentence rather than the URL."""
    end = len(url)
    while end > 0:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in _BRACKETS and url.count(_BRACKETS[last], 0, end) < url.count(last, 0, end):
            end -= 1  # "(siehe https://de.wikipedia.org/wiki/Rathaus_(Musterstadt))"
        else:
            break
    return url[:end], url[end:]


def _link(url: str) -> str:
    target = url if _SCHEME_PREFIX.match(url) else "https://" + url
    cleaned = clean_url(target)
    if not _is_web_url(cleaned):
        return escape(url, quote=False)
    shown = _SCHEME_PREFIX.sub("", cleaned)
    return (
        f'<a href="{escape(cleaned, quote=True)}" rel="{LINK_REL}">{escape(shown, quote=False)}</a>'
    )


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# ---------------------------------------------------------------------------------------------
# HTML to plain text

_BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_LINE_SPACES = re.compile(r"[ \t\f\v]+")
_PARAGRAPH_SPACING = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.preformatted = 0
        self.link: tuple[str, int] | None = None  # href and where its text starts in parts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            self.link = (href, len(self.parts)) if href else None
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n")  # one item a line
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            if tag == "pre":
                self.preformatted += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link is not None:
            href, start = self.link
            self.link = None
            shown = "".join(self.parts[start:]).strip()
            # Mastodon shows a link's own URL as its text (shortened with CSS): that text still
            # holds the trackers the href lost, so the text becomes the cleaned href.
            if shown != href and _SCHEME_PREFIX.match(shown) and clean_url(shown) == href:
                self.parts[start:] = [href]
        elif tag in _BLOCKS and tag != "li":
            self.parts.append("\n\n")
            if tag == "pre" and self.preformatted:
                self.preformatted -= 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data if self.preformatted else _SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """Plain text of ``html`` after sanitizing: paragraphs apart by a blank line, list items and
    ``<br>`` one a line, entities read, runs of spaces collapsed (in ``<pre>`` too).

    A link whose text is its own URL (Mastodon's, shortened with ``invisible`` and ``ellipsis``
    spans) comes out as the whole, cleaned URL.
    """
    collector = _TextCollector()
    collector.feed(sanitize_html(html))
    collector.close()
    lines = (_LINE_SPACES.sub(" ", line).strip() for line in "".join(collector.parts).split("\n"))
    return _PARAGRAPH_SPACING.sub("\n\n", "\n".join(lines)).strip()
