"""The built site's privacy: a Content-Security-Policy on every page, and a scan that proves no
file of the site makes a reader's browser (or feed reader) talk to anyone but our own origin.

Offline, in two steps:

1. :func:`with_policy` writes, as the first two elements of every HTML page's ``<head>``::

       <meta http-equiv="Content-Security-Policy" content="default-src 'self'; ...">
       <meta name="referrer" content="no-referrer">

   The policy allows our own origin only. mkdocs-material puts small inline scripts into every
   page (``__md_scope``, the palette restore, the tab restore); each page's policy lists the
   sha256 hashes of exactly that page's inline scripts, so no ``'unsafe-inline'`` is needed.
   The policy works on any static host (a meta tag needs no server configuration), and it
   turns every third-party request that slipped past the scan into a blocked one.
   ``build_site`` sets it into the theme's frames once (``fetch.site.shell``) and into the
   theme's static pages as it copies them; :func:`apply_policy` does the same for every page
   of a finished site. Either way the written HTML is post-processed rather than mkdocs hooked,
   so this does not depend on mkdocs-material's internals (it maintains no more after 2027;
   Zensical succeeds it).
2. :class:`BuildScan` (``build_site`` hands it what it writes, and it checks everything on a
   full build) and :func:`scan_site` read every HTML, CSS, JS, XML, JSON (and source map) file
   and report a :class:`Finding` for each of:

   - ``external-resource``: anything a browser loads by itself from another origin: ``src``,
     ``srcset``, ``poster``, ``<link href>`` (stylesheet, icon, preload, preconnect,
     dns-prefetch, manifest, ...), ``url()`` and ``@import`` in CSS and ``style``, URL
     literals in JavaScript, enclosures and images in feeds, a ``<meta>`` refresh, a form
     ``action``, ``<base href>``. Navigation links (``<a href>``) are the only external URLs
     allowed. Own origin means relative URLs, or the city's ``site.url``.
   - ``ping``: an ``<a ping>`` (a click beacon, even to ourselves).
   - ``tracking``: a link, or a URL in the text, that :func:`fetch.clean.links.clean_url`
     would still change; or a tracking parameter (``?fbclid=``) in text, judged by the link
     rules that apply to every site, so there is no second, hand-made list.
   - ``redirector`` / ``short-link``: a link through a platform redirector (l.facebook.com) or
     a link shortener (t.co, lnkd.in, bit.ly): the reader's browser would visit it first.
   - ``csp``: a page without the policy first in ``<head>``, a policy allowing more than our
     origin, an inline script without its hash, an inline ``style`` attribute or event handler
     (the policy blocks them: move them to ``stylesheets/aushang.css`` or a script file), a
     ``javascript:`` URL; ``referrer``: the referrer meta tag missing after the policy.
   - ``dormant-code``: a page that would wake a part of mkdocs-material that loads code or data
     from another origin (Mermaid diagrams from unpkg.com, repository facts from GitHub's API).
   - ``unreadable``: a JSON or XML file that does not parse (and so cannot be proven clean).

   Limits, on purpose: JavaScript is searched for URL literals (a quoted string starting with
   ``http://``, ``https://`` or ``//`` and a host), not executed; a URL assembled from pieces
   at run time is stopped by the policy instead, and ``tests/test_privacy_browser.py`` loads
   the pages in Chromium and fails on any request that leaves 127.0.0.1.

A finding fails the build (:class:`PrivacyError`): the site on disk is then not deployed.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import multiprocessing
import os
import re
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..clean.links import clean_url, default_rules, is_redirector, is_shortener
from ..errors import AushangError

log = logging.getLogger("aushang.privacy")

# ---------------------------------------------------------------------------------------------
# The policy

REFERRER_META = '<meta name="referrer" content="no-referrer">'
# No x-dns-prefetch-control meta: browsers resolve link hosts ahead of a click only on http
# pages, the site is served over https, and the HTML standard does not allow that value (the
# Nu HTML Checker must report zero errors).
# Every directive names our own origin at most. default-src 'self' covers every fetch the
# policy does not name (scripts, styles, fonts, the search index and worker, media, the
# manifest), so those directives are written only when a page needs more than 'self': its
# inline script and style hashes, or WebAssembly for the search. Spelling each of them out on
# every page cost 230 bytes per post page and allowed nothing less. data: images:
# mkdocs-material draws its icons with CSS masks of data: SVGs (main.css). frame-src and
# object-src are 'none', stricter than the default; base-uri and form-action do not fall back to
# default-src, so they are always set. frame-ancestors cannot be set by a meta tag (browsers
# ignore it with a console warning), so it is not here; the host's headers would have to set it.
POLICY_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),  # only with the page's inline script hashes or WebAssembly
    ("style-src", "'self'"),  # only with the page's inline <style> hashes
    ("img-src", "'self' data:"),
    ("frame-src", "'none'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
)
# The directives a page's policy may leave out: they fall back to default-src.
FALLS_BACK = frozenset({"script-src", "style-src"})
# The search page runs pagefind (fetch/site/search.py), which compiles its index reader from
# WebAssembly fetched from our own origin: only pages that refer to our pagefind bundle get
# 'wasm-unsafe-eval'. It allows compiling WebAssembly, not eval() of JavaScript strings, and
# no other origin.
WASM_SOURCE = "'wasm-unsafe-eval'"
_USES_PAGEFIND = re.compile(r"""=\s*["'][^"'<>]*\bpagefind/""", re.IGNORECASE)
# Source expressions a policy of ours may contain; anything else (a host, *, https:,
# 'unsafe-inline', 'unsafe-eval', 'strict-dynamic', blob:) lets something in we did not check.
_ALLOWED_SOURCES = re.compile(
    r"'self'|'none'|'sha256-[A-Za-z0-9+/]+={0,2}'|data:|'wasm-unsafe-eval'"
)
_ONLY_IN = {"data:": frozenset({"img-src"}), WASM_SOURCE: frozenset({"script-src"})}

# An HTML page's <head> start tag, its inline scripts and styles, as the browser's tokenizer
# reads them: raw text up to the first "</script" (or "</style") followed by space, / or >.
_HEAD_START = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script(\s[^>]*)?>(.*?)</script[\s/>]", re.IGNORECASE | re.DOTALL)
_INLINE_STYLE = re.compile(r"<style(\s[^>]*)?>(.*?)</style[\s/>]", re.IGNORECASE | re.DOTALL)
_OUR_META = re.compile(
    r"(?:\r?\n)?[ \t]*<meta\s+(?:http-equiv=[\"']?content-security-policy[\"']?"
    r"|http-equiv=[\"']?x-dns-prefetch-control[\"']?|name=[\"']?referrer[\"']?)[^>]*>",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(
    r"([^\s=/>]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?", re.IGNORECASE | re.DOTALL
)
# https://html.spec.whatwg.org/multipage/scripting.html#javascript-mime-type
_JAVASCRIPT_TYPES = frozenset(
    {"", "module", "application/ecmascript", "application/javascript", "application/x-ecmascript",
     "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0",
     "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
     "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript",
     "text/x-javascript"}
)  # fmt: skip
# A browser sniffs the encoding only from the first 1024 bytes: the policy must not push the
# <meta charset> beyond them.
CHARSET_WINDOW = 1024


class PrivacyError(AushangError):
    """The built site breaks a privacy invariant; the message lists the findings."""

    def __init__(self, findings: list[Finding], site_dir: Path) -> None:
        self.findings = findings
        shown = "\n".join(f"  {finding}" for finding in findings[:50])
        more = f"\n  ... and {len(findings) - 50} more" if len(findings) > 50 else ""
        super().__init__(
            f"{site_dir}: the built site breaks the privacy promise ({len(findings)} findings; "
            f"see docs/technik/datenschutz-nachweis.md). Do not deploy it:\n{shown}{more}"
        )


def script_hash(text: str) -> str:
    """The CSP source expression for an inline script or style with this exact text."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")  # the HTML parser does this
    digest = hashlib.sha256(normalized.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(
    script_hashes: Iterable[str],
    style_hashes: Iterable[str] = (),
    *,
    wasm: bool = False,
    media_url: str | None = None,
) -> str:
    """The policy; ``media_url`` (``site.media_url``) is added to img-src and nowhere else."""
    scripts = [WASM_SOURCE] if wasm else []
    extra = {
        "script-src": scripts + list(dict.fromkeys(script_hashes)),
        "style-src": list(dict.fromkeys(style_hashes)),
    }
    if media_url:
        extra["img-src"] = [media_source(media_url)]
    parts = []
    for name, sources in POLICY_DIRECTIVES:
        more = extra.get(name, [])
        if more or name not in FALLS_BACK:
            parts.append(" ".join([name, sources, *more]))
    return "; ".join(parts)


def _attributes(text: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text or ""):
        name = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        found.setdefault(name, value)
    return found


def is_executable_script(attributes: dict[str, str]) -> bool:
    """An inline script the browser runs (not a JSON data block, not one with ``src``)."""
    if "src" in attributes:
        return False
    kind = attributes.get("type", "").split(";")[0].strip().lower()
    return kind in _JAVASCRIPT_TYPES


def inline_hashes(html: str) -> tuple[list[str], list[str]]:
    """The hashes of a page's executable inline scripts and of its ``<style>`` elements."""
    scripts = [
        script_hash(match.group(2))
        for match in _INLINE_SCRIPT.finditer(html)
        if is_executable_script(_attributes(match.group(1)))
    ]
    styles = [script_hash(match.group(2)) for match in _INLINE_STYLE.finditer(html)]
    return scripts, styles


def policy_for_page(html: str, *, media_url: str | None = None) -> str:
    scripts, styles = inline_hashes(html)
    return content_security_policy(scripts, styles, wasm=uses_pagefind(html), media_url=media_url)


def media_source(media_url: str) -> str:
    """The CSP source expression for the media folder at ``media_url``: its origin and path.

    A path ending in "/" matches every file below it (CSP Level 3, "path-part" matching), so
    the pages may load images from the city's media folder and from nothing else on that host.
    https://www.w3.org/TR/CSP3/#match-paths
    """
    parts = urlsplit(media_url.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or re.search(r"[\s;,'\"]", media_url.strip())
    ):
        raise ValueError(f"not a media folder URL usable in a policy: {media_url!r}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return _origin(media_url.strip()) + path


def uses_pagefind(html: str) -> bool:
    return _USES_PAGEFIND.search(html) is not None


def apply_policy(site_dir: Path, *, media_url: str | None = None) -> int:
    """Put the policy and the referrer meta tag first into every page's head; return the count.

    Running it again on the same files changes nothing: our previous tags are replaced.
    """
    pages = 0
    for path in sorted(site_dir.rglob("*.html")):
        original = path.read_text(encoding="utf-8")
        updated = with_policy(original, path, media_url=media_url)
        if updated != original:
            path.write_text(updated, encoding="utf-8")
        pages += 1
    return pages


def with_policy(html: str, path: Path | str = "page", *, media_url: str | None = None) -> str:
    head = _HEAD_START.search(html)
    if head is None:
        raise AushangError(f"{path}: no <head>: cannot set the Content-Security-Policy")
    end = _HEAD_END.search(html, head.end())
    head_end = end.start() if end else len(html)
    inside = _OUR_META.sub("", html[head.end() : head_end])
    html = html[: head.end()] + inside + html[head_end:]
    policy = policy_for_page(html, media_url=media_url)
    # no line breaks around them: nothing in <head> is rendered (10 bytes on every page)
    tags = f'<meta http-equiv="Content-Security-Policy" content="{policy}">{REFERRER_META}'
    return html[: head.end()] + tags + html[head.end() :]


def parse_policy(text: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in text.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives


# ---------------------------------------------------------------------------------------------
# Findings


@dataclass(frozen=True, order=True)
class Finding:
    path: str  # relative to the site folder, with /
    line: int  # 1-based; 0 where a format has no lines worth naming (JSON)
    rule: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.rule}: {self.detail}"


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    files: Counter[str] = field(default_factory=Counter)  # scanned files by kind
    pages_with_policy: int = 0
    urls_checked: int = 0
    seconds: float = 0.0


# mkdocs-material's bundle holds URL literals for features we do not use. Each is listed here
# with why it stays dormant; the scan fails any page that would wake it (``dormant-code``).
DORMANT_URLS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^https://unpkg\.com/resize-observer-polyfill$"),
        "loaded only by browsers without ResizeObserver (before 2020); the page's policy "
        "blocks it there",
    ),
    (
        re.compile(r"^https://unpkg\.com/mermaid@[\w.]+/dist/mermaid\.min\.js$"),
        "loaded only on pages with a Mermaid diagram (class 'mermaid'), which the scan forbids",
    ),
    (
        re.compile(r"^https://api\.github\.com/(repos|users)/\$\{"),
        "repository facts, fetched only when mkdocs.yml sets repo_url, which the scan forbids",
    ),
    (
        re.compile(r"^https://\$\{\w+\}/api/v4/projects/"),
        "GitLab repository facts, only with repo_url, which the scan forbids",
    ),
    (
        re.compile(r"^https://example\.com\$\{\w+\}$"),
        "pagefind parses a result's path with new URL(`https://example.com${path}`) and strips "
        "the host again: nothing is fetched",
    ),
)
# Pagefind's result fragments: gzip, a signature, then JSON (url, content, meta, anchors).
PAGEFIND_FRAGMENT_SIGNATURE = b"pagefind_dcd"
_URL_LITERAL = re.compile(r"""["'`]((?:https?:)?//([^"'`\s\\/?#$]*)[^"'`\s\\]*)""")
_LITERAL_HOST = re.compile(r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?$|^\$\{")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_XML_STYLESHEET = re.compile(r"<\?xml-stylesheet\s[^>]*?href=[\"']([^\"']*)[\"']", re.IGNORECASE)
_TEXT_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}>»«“”„’'\"…"
_TEXT_PARAMETER = re.compile(r"[?&#;]([A-Za-z0-9_%.\-\[\]]{1,64})=")
_META_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s]+)", re.IGNORECASE)

# <link rel> values browsers never fetch by themselves: the link only describes the page.
_DESCRIPTIVE_RELS = frozenset(
    {"canonical", "alternate", "next", "prev", "previous", "author", "license", "help",
     "bookmark", "external", "nofollow", "noopener", "noreferrer", "tag", "me", "edit"}
)  # fmt: skip
# Elements whose text is inline: a URL split over spans (Mastodon's link texts) is one token.
_INLINE_ELEMENTS = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "i", "ins",
     "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
     "var", "wbr"}
)  # fmt: skip
_TEXT_ATTRIBUTES = frozenset({"alt", "title", "aria-label", "aria-description", "placeholder"})
_RESOURCE_ATTRIBUTES = frozenset(
    {"src", "poster", "data", "background", "codebase", "manifest", "lowsrc", "dynsrc",
     "formaction", "action", "icon"}
)  # fmt: skip
_NAVIGATION_TAGS = frozenset({"a", "area"})
# Attributes (besides srcset and imagesrcset) whose URL the browser loads as an image, under the
# policy's img-src: the only resources the city's media host (site.media_url) may serve.
_IMAGE_ATTRIBUTES = frozenset({("img", "src"), ("video", "poster")})
# Keys of JSON (JSON Feed, web manifest) whose URLs a reader's software loads by itself.
_JSON_RESOURCE_KEYS = frozenset(
    {"image", "banner_image", "icon", "favicon", "avatar", "src", "thumbnail"}
)
_JSON_NAVIGATION_KEYS = frozenset(
    {"url", "external_url", "home_page_url", "feed_url", "next_url", "href", "link", "start_url"}
)
# XML (RSS, Atom, sitemaps): elements and attributes that feed readers load by themselves.
_XML_RESOURCE_ATTRIBUTES = {
    "enclosure": "url",
    "content": "url",  # media:content
    "thumbnail": "url",  # media:thumbnail
    "player": "url",  # media:player
    "image": "href",  # itunes:image
}
_XML_RESOURCE_TEXT = frozenset({"icon", "logo"})  # Atom; RSS <image><url> is handled below
_XML_NAVIGATION_TEXT = frozenset({"link", "guid", "loc", "comments", "id", "uri"})


@cache
def _everywhere_parameters() -> tuple[re.Pattern[str], ...]:
    """The tracking-parameter patterns of the link rules that apply to every site."""
    probes = ("https://example.invalid/a?b=c", "http://www.stadt.example/a?b=c")
    return tuple(
        provider.parameters
        for provider in default_rules().providers
        if provider.parameters is not None
        and all(provider.applies_to(probe, probe.lower()) for probe in probes)
    )


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


class _Scanner:
    def __init__(self, site_dir: Path, site_url: str | None, media_url: str | None = None) -> None:
        self.site_dir = site_dir
        self.own_origins = {_origin(site_url)} if site_url else set()
        self.report = ScanReport()
        # The city's media host (site.media_url): images below this folder are our own; every
        # other kind of resource from that host (script, style, font, frame) is still external.
        self.media_source = media_source(media_url) if media_url else ""
        self.media_origin = _origin(media_url.strip()) if media_url else ""
        self.media_path = self.media_source[len(self.media_origin) :]

    # -- helpers -------------------------------------------------------------------------------
    def add(self, path: str, line: int, rule: str, detail: str) -> None:
        self.report.findings.append(Finding(path, line, rule, detail))

    def is_external(self, url: str) -> bool:
        """True if loading ``url`` would contact another origin."""
        value = url.strip()
        if value.startswith("//"):
            return _origin("https:" + value) not in self.own_origins
        try:
            scheme = urlsplit(value).scheme.lower()
        except ValueError:
            return True  # not parseable: cannot prove it stays home
        if scheme in ("http", "https", "ws", "wss", "ftp"):
            return _origin(value) not in self.own_origins
        # relative, data:, blob:, about:, mailto:, tel:, javascript: (judged elsewhere)
        return False

    def is_media(self, url: str) -> bool:
        """True if ``url`` is a file in the media folder of ``site.media_url``."""
        if not self.media_source:
            return False
        value = "https:" + url if url.startswith("//") else url
        try:
            path = urlsplit(value).path
        except ValueError:
            return False
        # A browser resolves "." and ".." (also percent-encoded) before it asks the host.
        segments = path.lower().replace("%2e", ".").split("/")
        if "." in segments or ".." in segments:
            return False
        return _origin(value) == self.media_origin and path.startswith(self.media_path)

    def check_resource(
        self, path: str, line: int, what: str, url: str, *, image: bool = False
    ) -> None:
        """``image``: ``url`` is loaded as an image (or a feed enclosure), so it may come from
        the city's media host too."""
        self.report.urls_checked += 1
        url = url.strip()
        if image and self.is_media(url):
            return
        if url.lower().startswith("javascript:"):
            self.add(path, line, "csp", f"{what} is a javascript: URL")
        elif self.is_external(url):
            self.add(path, line, "external-resource", f"{what} loads {url} from another origin")

    def check_navigation(self, path: str, line: int, what: str, url: str) -> None:
        self.report.urls_checked += 1
        url = url.strip()
        if url.lower().startswith(("javascript:", "vbscript:")):
            self.add(path, line, "csp", f"{what} is a script URL: {url[:80]}")
            return
        if not url.lower().startswith(("http://", "https://", "//")):
            return
        absolute = "https:" + url if url.startswith("//") else url
        if is_shortener(absolute):
            self.add(path, line, "short-link", f"{what} goes through a link shortener: {url}")
        elif is_redirector(absolute):
            self.add(path, line, "redirector", f"{what} goes through a redirector: {url}")
        elif clean_url(absolute) != absolute:
            self.add(path, line, "tracking", f"{what} carries tracking parameters: {url}")

    def check_text(self, path: str, line: int, text: str) -> None:
        """URLs in text must be clean; tracking parameters must not appear even in fragments."""
        reported: list[tuple[int, int]] = []
        for match in _TEXT_URL.finditer(text):
            token = match.group().rstrip(_URL_TRAILING)
            url = token if token.lower().startswith("http") else "https://" + token
            self.report.urls_checked += 1
            cleaned = clean_url(url)
            if cleaned and cleaned != url:
                rule = "redirector" if is_redirector(url) else "tracking"
                self.add(path, line, rule, f"the text shows {token[:160]}")
                reported.append((match.start(), match.start() + len(token)))
        for match in _TEXT_PARAMETER.finditer(text):
            if any(start <= match.start() < end for start, end in reported):
                continue  # that URL is reported already
            name = match.group(1)
            if any(pattern.fullmatch(name) for pattern in _everywhere_parameters()):
                context = text[max(0, match.start() - 40) : match.end() + 20].replace("\n", " ")
                self.add(path, line, "tracking", f"the text shows parameter {name!r}: {context}")

    def check_css(self, path: str, line: int, css: str) -> None:
        css = _CSS_COMMENT.sub(lambda m: "\n" * m.group().count("\n"), css)
        for pattern, what in ((_CSS_URL, "url()"), (_CSS_IMPORT, "@import")):
            for match in pattern.finditer(css):
                url = next(g for g in match.groups() if g is not None)
                at = line + css.count("\n", 0, match.start())
                self.check_resource(path, at, f"CSS {what}", url)

    def check_javascript(self, path: str, line: int, code: str) -> None:
        for match in _URL_LITERAL.finditer(code):
            url, host = match.group(1), match.group(2)
            if not _LITERAL_HOST.match(host):
                continue  # "//" in a string or a comment after a string, not a URL
            self.report.urls_checked += 1
            if not self.is_external(url):
                continue
            if any(pattern.match(url) for pattern, _ in DORMANT_URLS):
                continue
            at = line + code.count("\n", 0, match.start())
            self.add(path, at, "external-resource", f"script refers to {url}")

    # -- files ---------------------------------------------------------------------------------
    def scan(self, paths: Iterable[Path] | None = None) -> ScanReport:
        started = time.perf_counter()
        if paths is None:
            paths = site_files(self.site_dir)
        for path in paths:
            relative = path.relative_to(self.site_dir).as_posix()
            name = path.name.lower()
            if name.endswith((".html", ".htm")):
                self.scan_html_file(path, relative)
            elif name.endswith(".css"):
                self.count("css")
                self.check_css(relative, 1, path.read_text(encoding="utf-8", errors="replace"))
            elif name.endswith((".js", ".mjs")):
                self.count("js")
                code = path.read_text(encoding="utf-8", errors="replace")
                self.check_javascript(relative, 1, code)
            elif name.endswith(".map"):
                self.count("map")
                self.scan_source_map(path, relative)
            elif name.endswith((".json", ".webmanifest")):
                self.count("json")
                self.scan_json_file(path.read_bytes(), relative)
            elif name.endswith((".xml", ".rss", ".atom", ".svg")):
                self.count("xml" if not name.endswith(".svg") else "svg")
                self.scan_xml(path.read_bytes(), relative)
            elif name.endswith(".pf_fragment"):
                self.count("pagefind")
                self.scan_pagefind_fragment(path, relative)
            elif name.endswith(".xml.gz"):
                self.count("xml")
                try:
                    data = gzip.decompress(path.read_bytes())
                except (OSError, EOFError) as exc:
                    self.add(relative, 0, "unreadable", f"not a gzip file ({exc})")
                    continue
                self.scan_xml(data, relative)
        self.report.findings.sort()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def count(self, kind: str) -> None:
        self.report.files[kind] += 1

    def scan_html_file(self, path: Path, relative: str) -> None:
        self.count("html")
        raw = path.read_bytes()
        html = raw.decode("utf-8", errors="replace")
        reader = _PageReader(self, relative, page=True)
        reader.feed(html)
        reader.close()
        self.check_policy(relative, html, raw, reader)

    def check_policy(self, relative: str, html: str, raw: bytes, reader: _PageReader) -> None:
        first = reader.head_elements[:3]
        policy_tag = first[0] if first else None
        if (
            policy_tag is None
            or policy_tag[0] != "meta"
            or policy_tag[1].get("http-equiv", "").lower() != "content-security-policy"
        ):
            self.add(relative, 1, "csp", "the Content-Security-Policy is not the first in <head>")
            return
        self.report.pages_with_policy += 1
        policy = parse_policy(policy_tag[1].get("content", ""))
        for name, expected in POLICY_DIRECTIVES:
            sources = policy.get(name)
            if sources is None:
                if name not in FALLS_BACK:
                    self.add(relative, 1, "csp", f"the policy lacks {name}")
            elif expected == "'none'" and sources != ["'none'"]:
                self.add(relative, 1, "csp", f"{name} must be 'none'")
        for name, sources in policy.items():
            for source in sources:
                if name == "img-src" and self.media_source and source == self.media_source:
                    continue  # the city's media folder, site.media_url
                if not _ALLOWED_SOURCES.fullmatch(source) or name not in _ONLY_IN.get(
                    source, {name}
                ):
                    self.add(relative, 1, "csp", f"{name} allows {source}")
        default = policy.get("default-src", [])
        allowed_scripts = set(policy.get("script-src", default))
        script_hashes, style_hashes = inline_hashes(html)
        for missing in sorted(set(script_hashes) - allowed_scripts):
            self.add(relative, 1, "csp", f"an inline script ({missing}) is not in script-src")
        for missing in sorted(set(style_hashes) - set(policy.get("style-src", default))):
            self.add(relative, 1, "csp", f"an inline <style> ({missing}) is not in style-src")
        referrer = first[1] if len(first) > 1 else None
        if (
            referrer is None
            or referrer[0] != "meta"
            or referrer[1].get("name", "").lower() != "referrer"
            or referrer[1].get("content", "").lower() != "no-referrer"
        ):
            self.add(
                relative,
                1,
                "referrer",
                '<meta name="referrer" content="no-referrer"> does not follow the policy',
            )
        charset = re.search(rb"<meta\s+charset=", raw[:CHARSET_WINDOW], re.IGNORECASE)
        if charset is None and re.search(rb"<meta\s+charset=", raw, re.IGNORECASE):
            self.add(relative, 1, "csp", "<meta charset> moved beyond the first 1024 bytes")

    def scan_html_fragment(self, relative: str, line: int, html: str) -> None:
        reader = _PageReader(self, relative, page=False, line_offset=line - 1 if line else 0)
        reader.feed(html)
        reader.close()

    def scan_source_map(self, path: Path, relative: str) -> None:
        """A source map is read only by developer tools; the files it names must be ours."""
        try:
            data = json.loads(path.read_bytes())
        except ValueError as exc:
            self.add(relative, 0, "unreadable", f"not valid JSON ({exc})")
            return
        if not isinstance(data, dict):
            return
        names = [data.get("sourceRoot") or "", *(data.get("sources") or [])]
        for name in names:
            if isinstance(name, str) and name:
                self.check_resource(relative, 0, "source map entry", name)

    def scan_pagefind_fragment(self, path: Path, relative: str) -> None:
        """What pagefind shows of a result (its text, title, link, image) is held to our rules."""
        try:
            data = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as exc:
            self.add(relative, 0, "unreadable", f"not a gzip file ({exc})")
            return
        self.scan_json_file(data.removeprefix(PAGEFIND_FRAGMENT_SIGNATURE), relative)

    def scan_json_file(self, data: bytes, relative: str) -> None:
        try:
            document = json.loads(data)
        except ValueError as exc:
            self.add(relative, 0, "unreadable", f"not valid JSON ({exc})")
            return
        self.scan_json(document, relative, 0, key="", parent="")

    def scan_json(self, value: Any, relative: str, line: int, *, key: str, parent: str) -> None:
        if isinstance(value, dict):
            for child_key, child in value.items():
                self.scan_json(child, relative, line, key=str(child_key).lower(), parent=key)
        elif isinstance(value, list):
            for child in value:
                self.scan_json(child, relative, line, key=key, parent=parent)
        elif isinstance(value, str):
            what = f"JSON key {key!r}"
            if key in _JSON_RESOURCE_KEYS or (key == "url" and parent == "attachments"):
                self.check_resource(relative, line, what, value, image=key != "src")
            elif key in _JSON_NAVIGATION_KEYS or key.endswith("_url"):
                self.check_navigation(relative, line, what, value)
            elif "<" in value and ">" in value:
                self.scan_html_fragment(relative, line, value)
            else:
                self.check_text(relative, line, value)

    def scan_xml(self, data: bytes, relative: str) -> None:
        for match in _XML_STYLESHEET.finditer(data.decode("utf-8", errors="replace")):
            self.check_resource(relative, 1, "xml-stylesheet", match.group(1))
        try:
            root = ElementTree.fromstring(data)  # noqa: S314 (our own build output)
        except ElementTree.ParseError as exc:
            self.add(relative, 0, "unreadable", f"not well-formed XML ({exc})")
            return
        if relative.lower().endswith(".svg"):
            self.scan_svg(root, relative)
            return
        image_urls = {  # RSS <channel><image><url>
            child for parent in root.iter() if _local(parent.tag) == "image" for child in parent
        }
        for element in root.iter():
            name = _local(element.tag)
            attributes = {_local(k): v for k, v in element.attrib.items()}
            text = (element.text or "").strip()
            resource_attribute = _XML_RESOURCE_ATTRIBUTES.get(name)
            if resource_attribute and resource_attribute in attributes:
                self.check_resource(
                    relative,
                    0,
                    f"<{name} {resource_attribute}>",
                    attributes[resource_attribute],
                    image=name != "player",
                )
            if name == "link" and "href" in attributes:
                rel = attributes.get("rel", "alternate").lower()
                if rel == "enclosure" or rel not in _DESCRIPTIVE_RELS | {"self", "related", "via"}:
                    self.check_resource(
                        relative,
                        0,
                        f'<link rel="{rel}">',
                        attributes["href"],
                        image=rel == "enclosure",
                    )
                else:
                    self.check_navigation(relative, 0, f'<link rel="{rel}">', attributes["href"])
            if not text:
                continue
            if name in _XML_RESOURCE_TEXT or (name == "url" and element in image_urls):
                self.check_resource(relative, 0, f"<{name}>", text, image=True)
            elif name in _XML_NAVIGATION_TEXT and not text.startswith("urn:"):
                self.check_navigation(relative, 0, f"<{name}>", text)
            elif "<" in text and ">" in text:
                self.scan_html_fragment(relative, 0, text)
            else:
                self.check_text(relative, 0, text)

    def scan_svg(self, root: ElementTree.Element, relative: str) -> None:
        for element in root.iter():
            name = _local(element.tag)
            for attribute, value in element.attrib.items():
                local = _local(attribute)
                if local in ("href", "src") and name != "a":
                    self.check_resource(relative, 0, f"<{name} {local}>", value)
                elif local == "style":
                    self.check_css(relative, 0, value)
            if name == "style" and element.text:
                self.check_css(relative, 0, element.text)
            elif name == "script" and element.text:
                self.check_javascript(relative, 0, element.text)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


class _PageReader(HTMLParser):
    """One pass over an HTML page (or a fragment of HTML inside JSON or XML)."""

    def __init__(
        self, scanner: _Scanner, relative: str, *, page: bool, line_offset: int = 0
    ) -> None:
        super().__init__(convert_charrefs=True)
        self.scanner = scanner
        self.relative = relative
        self.page = page
        self.line_offset = line_offset
        self.in_head = False
        self.head_seen = False
        self.head_elements: list[tuple[str, dict[str, str]]] = []
        self.raw_element: tuple[str, dict[str, str], int] | None = None  # script or style
        self.raw_parts: list[str] = []
        self.text_parts: list[str] = []
        self.text_line = 1

    @property
    def line(self) -> int:
        return self.getpos()[0] + self.line_offset

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes: dict[str, str] = {}
        for name, value in attrs:
            attributes.setdefault(name, value or "")
        if self.page:
            if tag == "head" and not self.head_seen:
                self.in_head = self.head_seen = True
            elif self.in_head and len(self.head_elements) < 3:
                self.head_elements.append((tag, attributes))
            if tag == "body":
                self.in_head = False
        if tag not in _INLINE_ELEMENTS:
            self.flush_text()
        self.check_element(tag, attributes)
        if tag in ("script", "style"):
            self.raw_element = (tag, attributes, self.line)
            self.raw_parts = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
        if self.raw_element is not None and tag == self.raw_element[0]:
            name, attributes, line = self.raw_element
            self.raw_element = None
            self.check_raw(name, attributes, line, "".join(self.raw_parts))
            return
        if tag not in _INLINE_ELEMENTS:
            self.flush_text()

    def handle_data(self, data: str) -> None:
        if self.raw_element is not None:
            self.raw_parts.append(data)
            return
        if not self.text_parts:
            self.text_line = self.line
        self.text_parts.append(data)

    def close(self) -> None:
        super().close()
        if self.raw_element is not None:  # an unclosed script at the end of a fragment
            name, attributes, line = self.raw_element
            self.raw_element = None
            self.check_raw(name, attributes, line, "".join(self.raw_parts))
        self.flush_text()

    def flush_text(self) -> None:
        if self.text_parts:
            text = "".join(self.text_parts)
            self.text_parts = []
            if text.strip():
                self.scanner.check_text(self.relative, self.text_line, text)

    def check_raw(self, name: str, attributes: dict[str, str], line: int, content: str) -> None:
        scanner = self.scanner
        if name == "style":
            scanner.check_css(self.relative, line, content)
        elif "src" in attributes:
            pass  # content of a script with src is never run
        elif is_executable_script(attributes):
            scanner.check_javascript(self.relative, line, content)
        elif "json" in attributes.get("type", "").lower():
            try:
                document = json.loads(content)
            except ValueError as exc:
                scanner.add(self.relative, line, "unreadable", f"inline JSON: {exc}")
                return
            scanner.scan_json(document, self.relative, line, key="", parent="")

    def check_element(self, tag: str, attributes: dict[str, str]) -> None:
        scanner, relative, line = self.scanner, self.relative, self.line
        for name, value in attributes.items():
            what = f"<{tag} {name}>"
            if name.startswith("on") and len(name) > 2:
                scanner.add(relative, line, "csp", f"{what}: inline event handlers are blocked")
            elif name == "style":
                scanner.add(
                    relative,
                    line,
                    "csp",
                    f"{what}: inline styles are blocked by the "
                    "policy; use a class in stylesheets/aushang.css",
                )
                scanner.check_css(relative, line, value)
            elif name in ("srcset", "imagesrcset"):
                for candidate in value.split(","):
                    url = candidate.strip().split(" ")[0] if candidate.strip() else ""
                    if url:
                        scanner.check_resource(
                            relative, line, what, url, image=tag in ("img", "source", "link")
                        )
            elif name == "ping":
                scanner.add(relative, line, "ping", f"{what} sends a beacon on every click")
            elif name in ("href", "xlink:href"):
                self.check_href(tag, attributes, what, value)
            elif name in _RESOURCE_ATTRIBUTES:
                scanner.check_resource(
                    relative, line, what, value, image=(tag, name) in _IMAGE_ATTRIBUTES
                )
            elif name in _TEXT_ATTRIBUTES and value:
                scanner.check_text(relative, line, value)
            elif name == "srcdoc":
                scanner.scan_html_fragment(relative, line, value)
        if tag == "meta":
            self.check_meta(attributes)
        classes = attributes.get("class", "").split()
        if "mermaid" in classes:
            scanner.add(
                relative,
                line,
                "dormant-code",
                "a Mermaid diagram makes mkdocs-material load mermaid.min.js from unpkg.com",
            )
        if attributes.get("data-md-component") == "source":
            scanner.add(
                relative,
                line,
                "dormant-code",
                "repo_url is set: mkdocs-material asks the code "
                "host's API for stars and forks from every reader's browser",
            )

    def check_href(self, tag: str, attributes: dict[str, str], what: str, value: str) -> None:
        scanner, relative, line = self.scanner, self.relative, self.line
        if tag in _NAVIGATION_TAGS:
            scanner.check_navigation(relative, line, what, value)
        elif tag == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if rels and rels <= _DESCRIPTIVE_RELS:
                scanner.check_navigation(relative, line, what, value)
            else:
                scanner.check_resource(
                    relative, line, f'<link rel="{" ".join(sorted(rels))}">', value
                )
        else:  # <base>, and SVG <image>, <use>, <feImage>, <script>
            scanner.check_resource(relative, line, what, value)

    def check_meta(self, attributes: dict[str, str]) -> None:
        if attributes.get("http-equiv", "").lower() == "refresh":
            match = _META_REFRESH_URL.search(attributes.get("content", ""))
            if match:
                self.scanner.check_resource(
                    self.relative, self.line, "<meta refresh>", match.group(1)
                )
        elif attributes.get("name", "").lower() in ("description", "keywords"):
            self.scanner.check_text(self.relative, self.line, attributes.get("content", ""))


def site_files(site_dir: Path) -> list[Path]:
    return sorted(path for path in site_dir.rglob("*") if path.is_file())


# Below this many files one process is faster than starting others.
PARALLEL_FROM_FILES = 400


def _scan_part(
    site_dir: Path, site_url: str | None, media_url: str | None, paths: list[Path]
) -> ScanReport:
    return _Scanner(site_dir, site_url, media_url).scan(paths)


def scan_report(
    site_dir: Path,
    *,
    site_url: str | None = None,
    processes: int | None = None,
    media_url: str | None = None,
    paths: list[Path] | None = None,
) -> ScanReport:
    """Scan every file of a built site; the report holds the findings and what was scanned.

    Every file is judged on its own, so a large site is split over ``processes`` (default: the
    machine's cores); HTML parsing in Python takes about 7 ms per page. ``media_url`` is
    ``site.media_url``: images (and feed enclosures) in that folder count as our own.
    """
    started = time.perf_counter()
    # ``paths``: only these files (what an incremental build wrote); default every file.
    paths = site_files(Path(site_dir)) if paths is None else sorted(set(paths))
    workers = min(processes or os.cpu_count() or 1, max(1, len(paths) // 200))
    scan = BuildScan(site_dir, site_url=site_url, media_url=media_url, processes=workers)
    if len(paths) >= PARALLEL_FROM_FILES:
        scan.start()
    report = scan.finish(paths)
    report.seconds = time.perf_counter() - started
    return report


def _merge(reports: Iterable[ScanReport]) -> ScanReport:
    merged = ScanReport()
    for report in reports:
        merged.findings.extend(report.findings)
        merged.files.update(report.files)
        merged.pages_with_policy += report.pages_with_policy
        merged.urls_checked += report.urls_checked
    merged.findings.sort()
    return merged


class BuildScan:
    """The privacy scan of a build, run alongside it.

    A large build spends its time making pages in one process; the scan of what it wrote would
    follow as a step of its own. Here the build hands each file to :meth:`add` as it writes
    it, and batches of them are scanned by worker processes (one per core) while the build
    goes on. :meth:`finish` scans the rest (every file in the site, for a full build; else
    the files named), waits for the workers and returns the merged report. Files must not
    change after they were added. A small build, or a machine with one core, scans everything
    in :meth:`finish`, in this process. :func:`scan_report` (a finished site) uses it too,
    without handing over files first.

    The workers are started (forked) by :meth:`start`, early in the build, while the build's
    process is still small: a fork of a process holding 100,000 parsed posts costs memory as
    soon as either side touches the shared pages.
    """

    BATCH = 1_000

    def __init__(
        self,
        site_dir: Path,
        *,
        site_url: str | None = None,
        media_url: str | None = None,
        processes: int | None = None,
    ) -> None:
        self.site_dir = Path(site_dir)
        self.site_url = site_url
        self.media_url = media_url
        self.processes = processes or os.cpu_count() or 1
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future[ScanReport]] = []
        self.pending: list[Path] = []
        self.added: set[Path] = set()

    def start(self) -> None:
        """Start the workers (when this machine has more than one core)."""
        if self.pool is None and self.processes > 1:
            default_rules()  # compiled once here, inherited by the forked workers
            context = multiprocessing.get_context("fork" if os.name == "posix" else None)
            self.pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
            # every worker is forked now, not at the first batch (when the build is large)
            for future in [self.pool.submit(os.getpid) for _ in range(self.processes)]:
                future.result()

    def add(self, path: Path) -> None:
        if self.pool is None:
            return
        self.added.add(path)
        self.pending.append(path)
        if len(self.pending) >= self.BATCH:
            self._submit(self.pending)
            self.pending = []

    def _submit(self, paths: list[Path]) -> None:
        assert self.pool is not None
        self.futures.append(
            self.pool.submit(_scan_part, self.site_dir, self.site_url, self.media_url, paths)
        )

    def finish(self, paths: Iterable[Path] | None = None) -> ScanReport:
        """Scan what was not added yet of ``paths`` (default: every file of the site). The
        report's ``seconds`` are those the build waited here."""
        started = time.perf_counter()
        rest = sorted(set(site_files(self.site_dir) if paths is None else paths) - self.added)
        try:
            if self.pool is None or len(rest) + len(self.pending) < PARALLEL_FROM_FILES:
                reports = [_scan_part(self.site_dir, self.site_url, self.media_url, rest)]
                if self.pool is not None and self.pending:
                    self._submit(self.pending)
            else:
                rest.extend(self.pending)
                step = max(1, min(self.BATCH, -(-len(rest) // self.processes)))
                for index in range(0, len(rest), step):
                    self._submit(rest[index : index + step])
                reports = []
            self.pending = []
            reports.extend(future.result() for future in self.futures)
        finally:
            self.close()
        merged = _merge(reports)
        merged.seconds = time.perf_counter() - started
        return merged

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def scan_site(
    site_dir: Path, *, site_url: str | None = None, media_url: str | None = None
) -> list[Finding]:
    """Every privacy finding in a built site; an empty list is the proof.

    ``site_url`` is the site's public address (``site.url`` of the config): absolute URLs on its
    origin count as our own, like relative ones. ``media_url`` (``site.media_url``) is the folder
    on the city's media host: images there are our own too, anything else from it is not.
    """
    return scan_report(site_dir, site_url=site_url, media_url=media_url).findings


def check_report(report: ScanReport, site_dir: Path) -> None:
    """Raise :class:`PrivacyError` on any finding of ``report``; else log what was proven."""
    if report.findings:
        raise PrivacyError(report.findings, site_dir)
    log.info(
        "privacy: %s files scanned, %d pages with the policy, %d URLs checked, no findings "
        "(%.2f s)",
        sum(report.files.values()),
        report.pages_with_policy,
        report.urls_checked,
        report.seconds,
    )
