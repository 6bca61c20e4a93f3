"""HTML sanitizing, plain text to HTML, and HTML to plain text."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from fetch.clean.html import LINK_REL, html_to_text, linkify_text, sanitize_html

REL = 'rel="nofollow noopener noreferrer"'

# Shaped like a real Mastodon 4.x status "content": an h-card mention, a hashtag, and a long
# link shortened with invisible/ellipsis spans (its href carries utm_ parameters).
MASTODON_STATUS = (
    '<p><span class="h-card" translate="no"><a href="https://mastodon.social/@stadtwerke_ms" '
    'class="u-url mention">@<span>stadtwerke_ms</span></a></span> Heute ab 18 Uhr: '
    '<a href="https://social.musterstadt.de/tags/Stadtfest" class="mention hashtag" rel="tag">'
    "#<span>Stadtfest</span></a> auf dem Marktplatz!</p>"
    '<p><a href="https://www.musterstadt.de/veranstaltungen/stadtfest?utm_source=mastodon&amp;'
    'utm_medium=social" target="_blank" rel="nofollow noopener" translate="no">'
    '<span class="invisible">https://www.</span><span class="ellipsis">'
    'musterstadt.de/veranstaltungen</span><span class="invisible">/stadtfest?utm_source='
    "mastodon&amp;utm_medium=social</span></a></p>"
)
MASTODON_STATUS_SANITIZED = (
    '<p><span class="h-card" translate="no"><a href="https://mastodon.social/@stadtwerke_ms" '
    f'class="u-url mention" {REL}>@<span>stadtwerke_ms</span></a></span> Heute ab 18 Uhr: '
    f'<a href="https://social.musterstadt.de/tags/Stadtfest" class="mention hashtag" {REL}>'
    "#<span>Stadtfest</span></a> auf dem Marktplatz!</p>"
    '<p><a href="https://www.musterstadt.de/veranstaltungen/stadtfest" translate="no" '
    f'{REL}><span class="invisible">https://www.</span><span class="ellipsis">'
    'musterstadt.de/veranstaltungen</span><span class="invisible">/stadtfest</span></a></p>'
)  # the link text shows the cleaned URL, not the trackers the href lost

ALLOWED_TAGS = {
    "p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i",
    "em", "ul", "ol", "li", "ruby", "rt", "rp", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "lang",
    "dir",
    "href",
    "class",
    "rel",
    "translate",
    "start",
    "reversed",
    "value",
}


class _Structure(HTMLParser):
    """Every tag with its attributes, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Structure()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_safe(html: str) -> None:
    """Only allowed tags and attributes, links with a web or mail scheme and our rel."""
    for tag, attributes in elements_of(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attributes) <= ALLOWED_ATTRIBUTES, (tag, attributes, html)
        if tag == "a":
            assert attributes.get("rel") == LINK_REL, html
            assert "target" not in attributes
            href = attributes.get("href")
            if href is not None:
                assert urlsplit(href).scheme in {"http", "https", "mailto"}, html


# ---------------------------------------------------------------------------------------------
# sanitize_html

XSS_VECTORS = {
    "script element": '<script>alert("x")</script><p>Hallo</p>',
    "img onerror": "<img src=x onerror=alert(1)>Text",
    "javascript: href": '<a href="javascript:alert(1)">klick</a>',
    "javascript: href, upper case": '<a href="JAVASCRIPT:alert(1)">klick</a>',
    "javascript: href with an entity tab": '<a href="java&#x09;script:alert(1)">klick</a>',
    "javascript: href with entity letters": '<a href="&#106;avascript:alert(1)">klick</a>',
    "javascript: behind a redirector": '<a href="https://l.instagram.com/?u=javascript%3Aalert(1)">x</a>',
    "vbscript: href": '<a href="vbscript:msgbox(1)">klick</a>',
    "data: href": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "svg onload": '<svg onload="alert(1)"><circle r="5"/></svg>Text',
    "script inside svg": "<svg><script>alert(1)</script></svg>Text",
    "math mXSS": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "style attribute": '<p style="background:url(javascript:alert(1))">Text</p>',
    "style element": "<style>body{display:none}</style><p>Text</p>",
    "event handler on p": '<p onclick="alert(1)">Text</p>',
    "event handler on a": '<a href="https://www.musterstadt.de/" onmouseover="alert(1)">x</a>',
    "iframe": '<iframe src="https://evil.example/"></iframe>Text',
    "form": '<form action="https://evil.example/"><input name="q"><button>Senden</button></form>',
    "noscript breakout": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "comment with script": "<!--<script>alert(1)</script>-->Text",
    "base and meta refresh": '<base href="https://evil.example/"><meta http-equiv="refresh" '
    'content="0;url=javascript:alert(1)">Text',
    "object and embed": '<object data="x.swf"></object><embed src="x.swf">Text',
    "target blank": '<a href="https://www.musterstadt.de/" target="_blank">x</a>',
    "unclosed tag soup": '<p><a href="https://www.musterstadt.de/"><b>fett <i>kursiv</p>',
}


@pytest.mark.parametrize("html", XSS_VECTORS.values(), ids=XSS_VECTORS.keys())
def test_xss_vector_is_neutralized(html: str) -> None:
    """No script, handler, style, frame, form or foreign-scheme link survives sanitizing."""
    cleaned = sanitize_html(html)
    assert_safe(cleaned)
    assert "<script" not in cleaned.lower()


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script>alert("x")</script><p>Hallo</p>', "<p>Hallo</p>"),
        ("<svg><script>alert(1)</script><text>Bild</text></svg>Text", "Text"),
        ("<math><mi>x</mi></math>Text", "Text"),
        ("<style>p{color:red}</style><p>Text</p>", "<p>Text</p>"),
        ('<img src="https://www.musterstadt.de/a.jpg" alt="Rathaus">Text', "Text"),
        ('<a href="java&#x09;script:alert(1)">klick</a>', f"<a {REL}>klick</a>"),
        ("<form><button>Senden</button></form>", "Senden"),
    ],
)
def test_dropped_content(html: str, expected: str) -> None:
    """script, style, svg and math go with their content; img goes; form keeps its text."""
    assert sanitize_html(html) == expected


def test_mastodon_status_keeps_its_shape() -> None:
    """Mentions (h-card, u-url), hashtags, invisible/ellipsis spans and translate=no stay."""
    assert sanitize_html(MASTODON_STATUS) == MASTODON_STATUS_SANITIZED


def test_sanitizing_twice_changes_nothing() -> None:
    """Sanitized HTML is a fixed point, so re-normalizing an archived post is stable."""
    once = sanitize_html(MASTODON_STATUS)
    assert sanitize_html(once) == once


def test_tracked_href_is_cleaned_and_rel_added() -> None:
    """A Facebook-wrapped link with trackers becomes the plain target, with our rel."""
    html = (
        '<a href="https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.musterstadt.de%2Fkita'
        '%3Futm_source%3Dfb&amp;h=AT0">Kita-Anmeldung</a>'
    )
    expected = f'<a href="https://www.musterstadt.de/kita" {REL}>Kita-Anmeldung</a>'
    assert sanitize_html(html) == expected


def test_rel_replaces_the_original() -> None:
    """rel="tag" or a missing rel both become ours; target is removed."""
    html = '<a href="https://www.musterstadt.de/" rel="tag" target="_blank">x</a>'
    assert sanitize_html(html) == f'<a href="https://www.musterstadt.de/" {REL}>x</a>'


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://www.musterstadt.de/", True),
        ("http://www.musterstadt.de/", True),
        ("mailto:buergerbuero@musterstadt.de", True),
        ("tel:+4930123456", False),
        ("/relativ/seite", False),
        ("ftp://ftp.musterstadt.de/", False),
        ("", False),
    ],
)
def test_only_web_and_mail_links(href: str, kept: bool) -> None:
    """Only http, https and mailto hrefs stay; relative ones would point into our own site."""
    cleaned = sanitize_html(f'<a href="{href}">x</a>')
    assert ("href=" in cleaned) is kept


def test_lang_and_dir_are_kept() -> None:
    """lang (and dir, for right-to-left posts) stay on any element."""
    html = '<p lang="de">Hallo <span lang="tr">Merhaba</span></p><p dir="rtl" lang="ar">مرحبا</p>'
    assert sanitize_html(html) == html


def test_classes_are_limited() -> None:
    """Only Mastodon's own classes survive; an emptied class attribute disappears."""
    html = (
        '<p class="lead"><span class="invisible big">x</span><span class="red">y</span>'
        '<a href="https://www.musterstadt.de/" class="mention hashtag evil">z</a></p>'
        '<p class="quote-inline">RE: <a href="https://social.musterstadt.de/@rathaus/1">x</a></p>'
    )
    assert sanitize_html(html) == (
        '<p><span class="invisible">x</span><span>y</span>'
        f'<a href="https://www.musterstadt.de/" class="mention hashtag" {REL}>z</a></p>'
        f'<p class="quote-inline">RE: <a href="https://social.musterstadt.de/@rathaus/1" {REL}>'
        "x</a></p>"
    )


def test_structure_elements_are_kept() -> None:
    """Headings h2-h6, lists, quotes, code and emphasis stay; h1 becomes text."""
    html = (
        "<h1>Seite</h1><h2>Titel</h2><h6>Klein</h6><ul><li><strong>eins</strong></li></ul>"
        '<ol start="3"><li>drei</li></ol><blockquote><p><em>Zitat</em></p></blockquote>'
        "<pre><code>x = 1</code></pre><p><del>alt</del> <u>neu</u><br>Zeile</p>"
    )
    assert sanitize_html(html) == html.replace("<h1>Seite</h1>", "Seite")


# ---------------------------------------------------------------------------------------------
# linkify_text


def test_trailing_period_is_not_part_of_the_link() -> None:
    """Sentence punctuation after a URL stays outside the link."""
    assert linkify_text("Siehe https://musterstadt.de/a.") == (
        f'<p>Siehe <a href="https://musterstadt.de/a" {REL}>musterstadt.de/a</a>.</p>'
    )


@pytest.mark.parametrize(
    ("text", "link", "after"),
    [
        ("Infos: https://www.musterstadt.de/kita!", "https://www.musterstadt.de/kita", "!"),
        ("Neu? https://www.musterstadt.de/faq?", "https://www.musterstadt.de/faq", "?"),
        ("Link: https://www.musterstadt.de/a, dann", "https://www.musterstadt.de/a", ", dann"),
        ("(siehe https://www.musterstadt.de/plan)", "https://www.musterstadt.de/plan", ")"),
        ("„https://www.musterstadt.de/zitat“", "https://www.musterstadt.de/zitat", "“"),
        ("»https://www.musterstadt.de/zitat«", "https://www.musterstadt.de/zitat", "«"),
        ("https://www.musterstadt.de/ende...", "https://www.musterstadt.de/ende", "..."),
        (
            "(https://de.wikipedia.org/wiki/Rathaus_(Musterstadt)).",
            "https://de.wikipedia.org/wiki/Rathaus_(Musterstadt)",
            ").",
        ),
    ],
)
def test_link_ends_before_punctuation(text: str, link: str, after: str) -> None:
    """Trailing punctuation, closing quotes and unbalanced brackets are not part of a URL."""
    html = linkify_text(text)
    assert f'<a href="{link}" {REL}>' in html
    assert html.endswith(f"</a>{after}</p>")


def test_links_are_cleaned_and_shown_without_scheme() -> None:
    """Trackers leave the link and its text; the text shows the URL without https://."""
    text = "Programm: https://www.musterstadt.de/sommer?utm_source=instagram&tag=2&fbclid=x"
    assert linkify_text(text) == (
        f'<p>Programm: <a href="https://www.musterstadt.de/sommer?tag=2" {REL}>'
        "www.musterstadt.de/sommer?tag=2</a></p>"
    )


def test_ampersand_in_link_is_escaped() -> None:
    """An & in a URL is written &amp; in the attribute and the text."""
    assert linkify_text("https://www.musterstadt.de/?a=1&b=2") == (
        f'<p><a href="https://www.musterstadt.de/?a=1&amp;b=2" {REL}>'
        "www.musterstadt.de/?a=1&amp;b=2</a></p>"
    )


def test_www_address_without_scheme_is_linked_with_https() -> None:
    """Captions often write www.… without a scheme: linked as https, shown as written."""
    assert linkify_text("Mehr unter www.musterstadt.de/fest.") == (
        f'<p>Mehr unter <a href="https://www.musterstadt.de/fest" {REL}>'
        "www.musterstadt.de/fest</a>.</p>"
    )


def test_redirector_in_text_is_unwrapped() -> None:
    """A wrapped link pasted into a caption is unwrapped like any other."""
    text = "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.musterstadt.de%2Fwahl&h=AT1"
    assert linkify_text(text) == (
        f'<p><a href="https://www.musterstadt.de/wahl" {REL}>www.musterstadt.de/wahl</a></p>'
    )


def test_hashtags_with_umlauts_become_spans() -> None:
    """#Straßenfest, #Müllabfuhr and #Sommer2025 are hashtags; #1, C# and a#b are not."""
    html = linkify_text("#Straßenfest und #Müllabfuhr, #Sommer2025! Platz #1, C# und a#b")
    assert html == (
        '<p><span class="hashtag">#Straßenfest</span> und '
        '<span class="hashtag">#Müllabfuhr</span>, <span class="hashtag">#Sommer2025</span>! '
        "Platz #1, C# und a#b</p>"
    )


def test_emoji_and_mentions_stay_text() -> None:
    """Emoji pass through; a hashtag right after an emoji works; @mentions stay plain."""
    assert linkify_text("🎉#Stadtfest mit @feuerwehr_ms 🚒") == (
        '<p>🎉<span class="hashtag">#Stadtfest</span> mit @feuerwehr_ms 🚒</p>'
    )


def test_fragment_in_url_is_not_a_hashtag() -> None:
    """A #fragment inside a URL belongs to the link."""
    assert linkify_text("https://www.musterstadt.de/plan#karte") == (
        f'<p><a href="https://www.musterstadt.de/plan#karte" {REL}>'
        "www.musterstadt.de/plan#karte</a></p>"
    )


def test_paragraphs_and_line_breaks() -> None:
    """Blank lines separate paragraphs, single newlines become <br>; CRLF counts as newline."""
    text = "Erste Zeile\r\nzweite Zeile\r\n\r\n\r\nNeuer Absatz\n  \nLetzter"
    assert linkify_text(text) == (
        "<p>Erste Zeile<br>zweite Zeile</p><p>Neuer Absatz</p><p>Letzter</p>"
    )


def test_empty_text_gives_empty_html() -> None:
    """No text, no paragraph."""
    assert linkify_text("") == ""
    assert linkify_text(" \n\n ") == ""


NASTY_TEXTS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1) und data:text/html,<b>x</b>",
    'https://www.musterstadt.de/"onmouseover="alert(1)',
    "https://www.musterstadt.de/<script>",
    "https://l.facebook.com/l.php?u=https%3A%2F%2Fx.de%2F%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "#<b>tag</b> &amp; &lt;b&gt; ' \" `",
    "www.musterstadt.de/\"'><b>",
]


@pytest.mark.parametrize("text", NASTY_TEXTS)
def test_linkify_never_produces_unescaped_input(text: str) -> None:
    """Whatever the text, the HTML holds only p, br, our links and hashtag spans."""
    html = linkify_text(text)
    for tag, attributes in elements_of(html):
        assert tag in {"p", "br", "a", "span"}, html
        if tag == "a":
            assert set(attributes) == {"href", "rel"}, html
            href = attributes["href"] or ""
            assert urlsplit(href).scheme in {"http", "https"}, html
            assert not set(href) & set("<>\"' `"), html
        if tag == "span":
            assert attributes == {"class": "hashtag"}, html


@pytest.mark.parametrize("text", NASTY_TEXTS)
def test_linkify_output_is_already_sanitized(text: str) -> None:
    """Sanitizing linkified text changes no element and no text."""
    html = linkify_text(text)
    assert elements_of(sanitize_html(html)) == elements_of(html)
    assert html_to_text(sanitize_html(html)) == html_to_text(html)


# ---------------------------------------------------------------------------------------------
# html_to_text


def test_mastodon_status_as_text() -> None:
    """Mentions and hashtags read as written; the shortened link reads as the cleaned URL."""
    assert html_to_text(MASTODON_STATUS) == (
        "@stadtwerke_ms Heute ab 18 Uhr: #Stadtfest auf dem Marktplatz!\n\n"
        "https://www.musterstadt.de/veranstaltungen/stadtfest"
    )


def test_text_reads_entities_and_structure() -> None:
    """Entities are decoded, <br> and list items are lines, paragraphs a blank line apart."""
    html = (
        "<p>Rock &amp; Pop &lt;3\n  am   Markt</p><ul><li>eins</li><li>zwei</li></ul>"
        "<p>Zeile<br>neue Zeile</p>"
    )
    assert html_to_text(html) == "Rock & Pop <3 am Markt\n\neins\nzwei\n\nZeile\nneue Zeile"


def test_text_leaves_out_script_and_style() -> None:
    """Code is not text."""
    assert html_to_text("<style>p{}</style><p>Hallo<script>alert(1)</script></p>") == "Hallo"


def test_link_text_that_is_not_its_url_stays() -> None:
    """A link whose text is words keeps the words."""
    html = '<a href="https://www.musterstadt.de/?utm_source=x">Zum Rathaus</a>'
    assert html_to_text(html) == "Zum Rathaus"
