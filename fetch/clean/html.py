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

import functools
import re
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

from .links import clean_url, default_rules, is_shortener

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
    if is_shortener(cleaned):
        return None  # a short link stays text, as in linkify_text (see _link)
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
    """Return ``html`` with only allowed markup left and every link cleaned and marked rel.

    A link whose text is its own URL (Mastodon's, shortened with ``invisible`` and
    ``ellipsis`` spans, or a shortened ``example.org/pfad…``) shows the cleaned URL: the
    tracking parameters the ``href`` lost must not stay readable (and copyable) in its text.
    """
    # nh3 swallows errors raised in the attribute filter (and drops the attribute): load the
    # link rules out here, so that a corrupt rules file stops the run instead of every link.
    default_rules()
    cleaned = _CLEANER.clean(html)
    if "<a " not in cleaned:
        return cleaned
    rewriter = _LinkTextRewriter()
    rewriter.feed(cleaned)
    rewriter.close()
    return rewriter.result()


# Mastodon shows 30 characters of a link and hides the scheme and "www." (TextFormatter in
# https://github.com/mastodon/mastodon, app/lib/text_formatter.rb); a rewritten text does too.
_SHOWN_LINK_CHARACTERS = 30
_LINK_TEXT_CLASSES = frozenset({"invisible", "ellipsis"})
_URL_TEXT = re.compile(r"(?P<scheme>https?://)?[^\s/?#@]+\.[^\s/?#@]+(?:[/?#]\S*)?", re.IGNORECASE)
_ELLIPSES = ("…", "...")
_LEADING_WWW = re.compile(r"^(https?://)?www\.", re.IGNORECASE)


class _LinkTextRewriter(HTMLParser):
    """Copies nh3's output unchanged, except the text of links that show their own URL."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.anchor: tuple[str, str] | None = None  # raw start tag, href
        self.inner: list[str] = []  # the link's content as written
        self.text: list[str] = []  # the link's text as read
        self.spans = False  # the text is shortened with Mastodon's invisible/ellipsis spans

    def result(self) -> str:
        if self.anchor is not None:  # nh3 closes every element; this is only for safety
            self.out.extend([self.anchor[0], *self.inner])
        return "".join(self.out)

    def _target(self) -> list[str]:
        return self.inner if self.anchor is not None else self.out

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        if tag == "a" and self.anchor is None:
            self.anchor = (raw, dict(attrs).get("href") or "")
            self.inner, self.text, self.spans = [], [], False
            return
        if tag == "span" and self.anchor is not None:
            classes = set((dict(attrs).get("class") or "").split())
            self.spans = self.spans or bool(classes & _LINK_TEXT_CLASSES)
        self._target().append(raw)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._target().append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.anchor is not None:
            start, href = self.anchor
            self.anchor = None
            shown = _clean_link_text(unescape("".join(self.text)).strip(), href, self.spans)
            self.out.extend([start, *(self.inner if shown is None else [shown]), "</a>"])
            return
        self._target().append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._target().append(data)
        if self.anchor is not None:
            self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")


def _clean_link_text(text: str, href: str, spans: bool) -> str | None:
    """The new (escaped) content of a link whose text is a URL that is not clean, else None."""
    if not _is_web_url(href):
        return None
    truncated = text.endswith(_ELLIPSES)
    core = text.removesuffix("…").removesuffix("...").rstrip() if truncated else text
    match = _URL_TEXT.fullmatch(core)
    if match is None:
        return None
    with_scheme = match.group("scheme") is not None
    if truncated:
        # A shortened text cannot be cleaned itself: it must be the start of the target.
        target = href if with_scheme else _SCHEME_PREFIX.sub("", href)
        if target.startswith(core) or target.removeprefix("www.").startswith(core):
            return None
        url = href
    else:
        full = core if with_scheme else "https://" + core
        cleaned = clean_url(full)
        if not cleaned or cleaned == full:
            return None
        url = cleaned
    if spans:
        prefix = _MASTODON_HIDDEN_PREFIX.match(url)
        hidden_start = prefix.group() if prefix else ""
        rest = url[len(hidden_start) :]
        shown, hidden = rest[:_SHOWN_LINK_CHARACTERS], rest[_SHOWN_LINK_CHARACTERS:]
        shown_class = ' class="ellipsis"' if hidden else ""
        return (
            f'<span class="invisible">{escape(hidden_start, quote=False)}</span>'
            f"<span{shown_class}>{escape(shown, quote=False)}</span>"
            f'<span class="invisible">{escape(hidden, quote=False)}</span>'
        )
    shown = url if with_scheme else _SCHEME_PREFIX.sub("", url)
    if not _LEADING_WWW.match(core):  # the text left "www." out: so does the new text
        shown = _LEADING_WWW.sub(r"\1", shown)
    length = max(len(core), _SHOWN_LINK_CHARACTERS)
    if truncated and len(shown) > length:
        shown = shown[:length].rstrip() + "…"
    return escape(shown, quote=False)


# ---------------------------------------------------------------------------------------------
# Plain text to HTML

# A URL runs to whitespace or a character that cannot be in one; the end is trimmed below.
# A bare "musterstadt.de/freibad?utm_source=..." (Instagram captions) is a link too: left as
# text it would keep its trackers. It needs a path, a lowercase top-level domain and no "@"
# before it, so "z.B./" or "info@stadt.de/x" are not taken for one.
_LINK_OR_HASHTAG = re.compile(
    r"(?P<link>\b(?:https?://[^\s<>\"`]+|www\.[^\s<>\"`]+\.[^\s<>\"`]+"
    r"|(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?-i:[a-z]{2,24})/[^\s<>\"`]*))"
    r"|(?<![\w/&#])#(?P<hashtag>\w*[^\W\d_]\w*)",
    re.IGNORECASE,
)
# Sentence punctuation and quotation marks (German „…“ and »…« too) that end a text, not a URL.
_TRAILING = ".,:;!?'\"…“”„‘’‚«»›‹"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")
_SCHEME_PREFIX = re.compile(r"^https?://", re.IGNORECASE)
_MASTODON_HIDDEN_PREFIX = re.compile(r"^https?://(?:www\.)?", re.IGNORECASE)


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
    if not _is_web_url(cleaned) or is_shortener(cleaned):
        # A short link (t.co, lnkd.in) stays text: a click would tell the shortener who read it,
        # and only a request could expand it; sources give the expanded URL where they can.
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


@functools.lru_cache(maxsize=1024)
def html_to_text(html: str) -> str:
    """Plain text of ``html`` after sanitizing: paragraphs apart by a blank line, list items and
    ``<br>`` one a line, entities read, runs of spaces collapsed (in ``<pre>`` too).

    A link whose text is its own URL (Mastodon's, shortened with ``invisible`` and ``ellipsis``
    spans) comes out as the whole, cleaned URL.

    Cached: the build asks for the same post's text three times in a row (its title, its
    description, its teaser), and sanitizing is the dear part.
    """
    collector = _TextCollector()
    collector.feed(sanitize_html(html))
    collector.close()
    lines = (_LINE_SPACES.sub(" ", line).strip() for line in "".join(collector.parts).split("\n"))
    return _PARAGRAPH_SPACING.sub("\n\n", "\n".join(lines)).strip()
