"""The built site keeps the privacy promise, file by file, without a browser:

- the scan of ``fetch.site.privacy`` finds nothing in the Musterstadt demo site, and finds each
  kind of leak we plant in a small site of our own (so it can fail);
- every page carries the Content-Security-Policy first in ``<head>``, with the hashes of exactly
  its own inline scripts, re-computed here with another HTML parser;
- no link and no text carries a tracking parameter, a redirector or a short link, judged by
  the link cleaner's own rules, while the demo's sources carried plenty;
- a link that shows its own URL shows the cleaned one (``fetch.clean.html``);
- no published image carries EXIF, GPS, XMP, IPTC, ICC or a comment (read by exiftool);
- ``build_site`` refuses a site with a finding.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from fetch.clean.html import linkify_text, sanitize_html
from fetch.clean.links import clean_url, default_rules, is_redirector, is_shortener
from fetch.config import load_config
from fetch.demo.photos import make_photo
from fetch.demo.server import DemoServer
from fetch.site.build import build_site
from fetch.site.privacy import (
    PARALLEL_FROM_FILES,
    BuildScan,
    PrivacyError,
    apply_policy,
    content_security_policy,
    parse_policy,
    scan_report,
    scan_site,
    with_policy,
)
from tests.conftest import ROOT, write_config
from tests.test_images import exiftool, metadata_kinds, read_tags  # noqa: F401 (exiftool: fixture)

SITE_URL = load_config(ROOT / "aushang.yml").site.url
JAVASCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


# ---------------------------------------------------------------------------------------------
# The demo site


def test_demo_site_has_no_privacy_finding(demo_site: Path) -> None:
    """The scan reads every HTML, CSS, JS, XML and JSON file of the demo site and finds nothing."""
    report = scan_report(demo_site, site_url=SITE_URL)
    assert [str(finding) for finding in report.findings] == []
    assert report.files["html"] == len(html_pages(demo_site)) >= 40
    assert report.files["css"] >= 2 and report.files["js"] >= 2
    assert report.pages_with_policy == report.files["html"]
    assert report.urls_checked > 1000


def test_the_scan_split_over_processes_reads_the_same(demo_site: Path) -> None:
    """Scanning in two processes reads every file once, as one process does."""
    one = scan_report(demo_site, site_url=SITE_URL, processes=1)
    two = scan_report(demo_site, site_url=SITE_URL, processes=2)
    assert (two.files, two.urls_checked, two.pages_with_policy, two.findings) == (
        one.files,
        one.urls_checked,
        one.pages_with_policy,
        one.findings,
    )


def test_every_page_starts_with_the_policy_and_its_own_script_hashes(demo_site: Path) -> None:
    """First in <head>: the policy, listing exactly the page's inline scripts; then referrer."""
    policies = set()
    for page in html_pages(demo_site):
        soup = soup_of(page)
        head = soup.head
        assert head is not None, page
        first, second = head.find_all(True, recursive=False)[:2]
        assert first.name == "meta" and first.get("http-equiv") == "Content-Security-Policy", page
        assert second.name == "meta" and second.get("name") == "referrer", page
        assert second.get("content") == "no-referrer"
        policy = parse_policy(str(first["content"]))
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
        inline = {
            "'sha256-"
            + base64.b64encode(hashlib.sha256(script.string.encode()).digest()).decode()
            + "'"
            for script in soup.find_all("script")
            if not script.get("src")
            and str(script.get("type", "")).lower() in JAVASCRIPT_TYPES
            and script.string
        }
        # without inline scripts the page needs no script-src: default-src 'self' applies
        scripts = policy.get("script-src", policy["default-src"])
        listed = {source for source in scripts if source.startswith("'sha256-")}
        assert listed == inline, page
        everything = " ".join(" ".join(sources) for sources in policy.values())
        assert "unsafe-inline" not in everything and "'unsafe-eval'" not in everything
        assert not re.search(r"https?:|\*|//", everything), everything
        policies.add(str(first["content"]))
    assert len(policies) >= 2, "material's inline scripts differ by page depth"


def tracking_names() -> list[re.Pattern[str]]:
    """Tracking-parameter patterns of the link rules that apply to every site (utm_, fbclid,
    gclid, mtm_, igshid, mc_eid, ...): the cleaner's own list, not a second one."""
    probe = "https://www.stadt.example/seite?x=1"
    return [
        provider.parameters
        for provider in default_rules().providers
        if provider.parameters is not None and provider.applies_to(probe, probe.lower())
    ]


def parameters_in(text: str) -> list[str]:
    names = re.findall(r"[?&#;]([\w%.\-\[\]]{1,64})=", text)
    return [name for name in names if any(p.fullmatch(name) for p in tracking_names())]


def test_no_tracking_parameter_anywhere_in_the_site(demo_site: Path) -> None:
    """Every href and src is what the cleaner leaves it; no text shows ?utm_.../fbclid=...;
    no link goes through a redirector or a shortener (t.co, lnkd.in, bit.ly)."""
    assert parameters_in("x.de/?utm_source=a&fbclid=b&mc_eid=c&igshid=d&pk_campaign=e") == [
        "utm_source",
        "fbclid",
        "mc_eid",
        "igshid",
        "pk_campaign",
    ]
    urls = 0
    for page in html_pages(demo_site):
        soup = soup_of(page)
        for element in soup.find_all(["a", "area", "link", "img", "source", "script"]):
            for attribute in ("href", "src"):
                url = str(element.get(attribute) or "")
                if url.startswith(("http://", "https://")):
                    urls += 1
                    assert clean_url(url) == url, (page, url)
                    assert not is_shortener(url) and not is_redirector(url), (page, url)
        assert parameters_in(soup.get_text("")) == [], page
    assert urls > 100
    for path in demo_site.rglob("*"):
        if path.suffix in (".json", ".xml", ".js", ".css") and path.is_file():
            assert parameters_in(path.read_text(encoding="utf-8", errors="replace")) == [], path


def test_the_demo_sources_did_carry_trackers(demo_site: Path) -> None:
    """The sources of the demo (the archived raw payloads) are full of trackers: the site's
    cleanliness is the cleaner's work, not an empty test."""
    raw = demo_site.parent / "demo" / "archive" / "raw"
    found = {
        name
        for path in raw.rglob("*.json")
        for name in parameters_in(path.read_text(encoding="utf-8").replace("\\u0026", "&"))
    }
    assert {"utm_source", "fbclid"} <= found, found
    assert any("l.facebook.com" in p.read_text(encoding="utf-8") for p in raw.rglob("*.json"))


def test_published_images_carry_no_metadata(demo_site: Path, exiftool: str) -> None:  # noqa: F811
    """exiftool finds no EXIF, GPS, XMP, IPTC, ICC or comment in any image of the site, though
    the demo's photos carry EXIF, GPS and orientation at the source."""
    source = demo_site.parent / "source-photo.jpg"
    source.write_bytes(make_photo("control", width=320, height=240, gps=True, comment=True))
    control = metadata_kinds(read_tags(exiftool, source)[0])
    assert {"EXIF", "GPS", "comment"} <= set(control), control
    images = sorted(p for p in (demo_site / "media").rglob("*") if p.is_file())
    assert len(images) >= 10
    leaks = {
        Path(tags["SourceFile"]).name: kinds
        for tags in read_tags(exiftool, *images)
        if (kinds := metadata_kinds(tags))
    }
    assert leaks == {}


# ---------------------------------------------------------------------------------------------
# The scanner finds what we plant

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Probe</title>
<link rel="stylesheet" href="style.css">
<script>var depth = ".";</script>
</head><body>
<p>Ein Beitrag mit <a href="https://www.musterstadt.de/stadtfest">einem sauberen Link</a>.</p>
{body}
</body></html>
"""

# (what is planted, file name, content, expected rule; None: allowed)
PLANTED: list[tuple[str, str, str, str | None]] = [
    ("a clean page", "index.html", "<p>nichts</p>", None),
    ("an outgoing link", "index.html", '<a href="https://example.org/x">x</a>', None),
    ("our own origin", "index.html", f'<img src="{SITE_URL}media/a.webp" alt="">', None),
    ("a relative image", "index.html", '<img src="media/a.webp" alt="">', None),
    ("canonical link", "index.html", f'<link rel="canonical" href="{SITE_URL}x/">', None),
    ("a data: icon", "index.html", '<img src="data:image/png;base64,AAAA" alt="">', None),
    ("img src", "index.html", '<img src="https://cdn.example/a.jpg" alt="">', "external"),
    (
        "srcset",
        "index.html",
        '<img src="a.webp" srcset="a.webp 1x, //cdn.example/b 2x">',
        "external",
    ),
    (
        "stylesheet",
        "index.html",
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css">',
        "external",
    ),
    (
        "preconnect",
        "index.html",
        '<link rel="preconnect" href="https://fonts.gstatic.com">',
        "external",
    ),
    ("dns-prefetch", "index.html", '<link rel="dns-prefetch" href="//stats.example">', "external"),
    (
        "preload",
        "index.html",
        '<link rel="preload" as="font" href="https://cdn.example/f.woff2">',
        "external",
    ),
    (
        "manifest",
        "index.html",
        '<link rel="manifest" href="https://cdn.example/app.webmanifest">',
        "external",
    ),
    ("icon", "index.html", '<link rel="icon" href="https://cdn.example/favicon.ico">', "external"),
    (
        "script src",
        "index.html",
        '<script src="https://www.googletagmanager.com/gtag/js"></script>',
        "external",
    ),
    ("iframe", "index.html", '<iframe src="https://www.youtube.com/embed/x"></iframe>', "external"),
    (
        "video poster",
        "index.html",
        '<video poster="https://cdn.example/p.jpg"></video>',
        "external",
    ),
    (
        "audio source",
        "index.html",
        '<audio><source src="https://cdn.example/a.mp3"></audio>',
        "external",
    ),
    ("svg image", "index.html", '<svg><image href="https://cdn.example/i.png"/></svg>', "external"),
    (
        "meta refresh",
        "index.html",
        '<meta http-equiv="refresh" content="0; url=https://x.example/">',
        "external",
    ),
    ("form action", "index.html", '<form action="https://forms.example/send"></form>', "external"),
    (
        "style element",
        "index.html",
        "<style>body{background:url(https://cdn.example/b.png)}</style>",
        "external",
    ),
    (
        "inline fetch",
        "index.html",
        '<script>fetch("https://stats.example/hit")</script>',
        "external",
    ),
    (
        "CSS url()",
        "style.css",
        "body { background: url('https://cdn.example/bg.png'); }",
        "external",
    ),
    (
        "CSS @import",
        "style.css",
        '@import "https://fonts.googleapis.com/css2?family=Roboto";',
        "external",
    ),
    (
        "CSS comment",
        "style.css",
        "/* see https://fontawesome.com/license */ a { color: red; }",
        None,
    ),
    (
        "JS beacon",
        "app.js",
        'navigator.sendBeacon("https://stats.example/collect", data);',
        "external",
    ),
    ("JS comment", "app.js", "// https://example.org/docs explains this\nvar a = 1;", None),
    (
        "JSON Feed image",
        "feed.json",
        '{"items": [{"image": "https://cdn.example/a.jpg"}]}',
        "external",
    ),
    ("JSON Feed link", "feed.json", '{"items": [{"url": "https://example.org/a"}]}', None),
    (
        "RSS enclosure",
        "feed.xml",
        '<rss><channel><item><enclosure url="https://cdn.example/a.jpg" type="image/jpeg"/>'
        "</item></channel></rss>",
        "external",
    ),
    (
        "RSS HTML",
        "feed.xml",
        "<rss><channel><item><description>&lt;img src=&quot;https://cdn.example/a.jpg&quot;&gt;"
        "</description></item></channel></rss>",
        "external",
    ),
    (
        "utm_ link",
        "index.html",
        '<a href="https://www.musterstadt.de/a?utm_source=fb">a</a>',
        "tracking",
    ),
    (
        "fbclid link",
        "index.html",
        '<a href="https://www.musterstadt.de/a?fbclid=IwAR3x">a</a>',
        "tracking",
    ),
    (
        "youtube si=",
        "index.html",
        '<a href="https://www.youtube.com/watch?v=abc&si=XyZ">v</a>',
        "tracking",
    ),
    (
        "tracking in text",
        "index.html",
        "<p>Mehr unter musterstadt.de/fest?fbclid=IwAR3xY</p>",
        "tracking",
    ),
    (
        "tracked URL text",
        "index.html",
        "<p>https://www.musterstadt.de/a?mtm_campaign=x</p>",
        "tracking",
    ),
    (
        "feed link",
        "feed.xml",
        "<rss><channel><item><link>https://www.musterstadt.de/a?utm_medium=social</link>"
        "</item></channel></rss>",
        "tracking",
    ),
    ("t.co", "index.html", '<a href="https://t.co/AbCdEf">t.co/AbCdEf</a>', "short-link"),
    ("lnkd.in", "index.html", '<a href="https://lnkd.in/eXyZ">lnkd.in/eXyZ</a>', "short-link"),
    ("bit.ly", "index.html", '<a href="https://bit.ly/3abc">bit.ly/3abc</a>', "short-link"),
    (
        "redirector",
        "index.html",
        '<a href="https://l.facebook.com/l.php?u=https%3A%2F%2Fx.de%2F">x</a>',
        "redirector",
    ),
    ("ping", "index.html", '<a href="x/" ping="https://stats.example/">x</a>', "ping"),
    ("event handler", "index.html", '<img src="a.webp" alt="" onerror="alert(1)">', "csp"),
    ("style attribute", "index.html", '<p style="color: red">rot</p>', "csp"),
    ("javascript: link", "index.html", '<a href="javascript:alert(1)">x</a>', "csp"),
    ("mermaid", "index.html", '<pre class="mermaid">graph TD; A-->B</pre>', "dormant-code"),
    (
        "repo_url",
        "index.html",
        '<div class="md-source" data-md-component="source"></div>',
        "dormant-code",
    ),
    ("broken JSON", "data.json", '{"a": ', "unreadable"),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [pytest.param(name, content, rule, id=what) for what, name, content, rule in PLANTED],
)
def test_the_scan_finds_what_we_plant(
    tmp_path: Path, name: str, content: str, expected: str | None
) -> None:
    """Each kind of leak, planted in an otherwise clean site, is found; allowed things are not."""
    body = content if name == "index.html" else ""
    (tmp_path / "index.html").write_text(PAGE.format(body=body), encoding="utf-8")
    (tmp_path / "style.css").write_text("a { color: #036; }", encoding="utf-8")
    if name != "index.html":
        (tmp_path / name).write_text(content, encoding="utf-8")
    apply_policy(tmp_path)
    findings = scan_site(tmp_path, site_url=SITE_URL)
    rules = {finding.rule for finding in findings}
    if expected is None:
        assert findings == []
    else:
        wanted = "external-resource" if expected == "external" else expected
        assert wanted in rules, findings
        assert all(finding.path == name for finding in findings if finding.rule == wanted)


def test_the_scan_reads_compressed_sitemaps(tmp_path: Path) -> None:
    sitemap = "<urlset><url><loc>https://x.de/a?utm_source=x</loc></url></urlset>"
    (tmp_path / "sitemap.xml.gz").write_bytes(gzip.compress(sitemap.encode()))
    assert [f.rule for f in scan_site(tmp_path)] == ["tracking"]


def test_a_page_without_the_policy_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(PAGE.format(body=""), encoding="utf-8")
    findings = scan_site(tmp_path)
    assert [f.rule for f in findings] == ["csp"]
    assert "not the first in <head>" in findings[0].detail


@pytest.mark.parametrize("inline", [True, False])
def test_a_script_added_after_the_policy_is_a_finding(tmp_path: Path, inline: bool) -> None:
    """An inline script without its hash would be blocked: the scan says which page. A page
    that had no inline script has no script-src; default-src 'self' blocks the script too."""
    page = PAGE.format(body="")
    if not inline:
        page = page.replace('<script>var depth = ".";</script>\n', "")
    page = with_policy(page)
    assert ("script-src" in page) is inline
    page = page.replace("</body>", "<script>var later = 1;</script></body>")
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    findings = scan_site(tmp_path)
    assert [f.rule for f in findings] == ["csp"]
    assert "is not in script-src" in findings[0].detail


@pytest.mark.parametrize("name", ["default-src", "img-src", "object-src", "base-uri"])
def test_a_policy_without_a_directive_that_does_not_fall_back_is_a_finding(
    tmp_path: Path, name: str
) -> None:
    """script-src and style-src may be left to default-src; the others must be there."""
    page = with_policy(PAGE.format(body=""))
    policy = re.search(r'Content-Security-Policy" content="([^"]*)"', page)[1]
    kept = "; ".join(part for part in policy.split("; ") if not part.startswith(name + " "))
    assert kept != policy
    (tmp_path / "index.html").write_text(page.replace(policy, kept), encoding="utf-8")
    (tmp_path / "style.css").write_text("a { color: #036; }", encoding="utf-8")
    assert [f.detail for f in scan_site(tmp_path)] == [f"the policy lacks {name}"]


@pytest.mark.parametrize(
    "source", ["https:", "*", "'unsafe-inline'", "'unsafe-eval'", "cdn.example", "blob:"]
)
def test_a_weakened_policy_is_a_finding(tmp_path: Path, source: str) -> None:
    page = with_policy(PAGE.format(body="")).replace("script-src 'self'", f"script-src {source}")
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    findings = scan_site(tmp_path)
    assert any(f.rule == "csp" and source in f.detail for f in findings), findings


def test_the_referrer_policy_must_follow_the_policy(tmp_path: Path) -> None:
    page = with_policy(PAGE.format(body="")).replace('content="no-referrer"', 'content="origin"')
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    assert [f.rule for f in scan_site(tmp_path)] == ["referrer"]


def test_the_policy_is_set_once_and_idempotently(tmp_path: Path) -> None:
    """Applying the policy again changes nothing; a referrer tag from a template is moved."""
    original = PAGE.format(body="").replace(
        "<title>", '<meta name="referrer" content="no-referrer"><title>'
    )
    (tmp_path / "index.html").write_text(original, encoding="utf-8")
    apply_policy(tmp_path)
    once = (tmp_path / "index.html").read_text(encoding="utf-8")
    apply_policy(tmp_path)
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == once
    assert once.count("Content-Security-Policy") == 1
    assert once.count('name="referrer"') == 1
    assert scan_site(tmp_path) == []


def test_the_search_page_may_compile_webassembly_and_no_other_page(tmp_path: Path) -> None:
    """Pagefind's WebAssembly needs 'wasm-unsafe-eval', on the page that loads it only."""
    search = PAGE.format(body='<div id="aushang-search" data-bundle="../pagefind/"></div>')
    assert "'wasm-unsafe-eval'" in with_policy(search)
    assert "wasm" not in with_policy(PAGE.format(body=""))


# ---------------------------------------------------------------------------------------------
# Media on the city's own media host (site.media_url)

MEDIA_URL = "https://medien.musterstadt.de/aushang/"
MEDIA = MEDIA_URL + "ab/ab12cd34-960.webp"

# (what is planted, file name, content, expected rule with media_url set; None: allowed)
PLANTED_MEDIA: list[tuple[str, str, str, str | None]] = [
    ("img src", "index.html", f'<img src="{MEDIA}" alt="">', None),
    ("img srcset", "index.html", f'<img src="a.webp" srcset="{MEDIA} 960w" alt="">', None),
    (
        "picture source",
        "index.html",
        f'<picture><source srcset="{MEDIA} 960w"><img src="a.webp" alt=""></picture>',
        None,
    ),
    ("video poster", "index.html", f'<video poster="{MEDIA}"></video>', None),
    ("link to the full size", "index.html", f'<a href="{MEDIA}">Originalgröße</a>', None),
    (
        "RSS enclosure",
        "feed.xml",
        f'<rss><channel><item><enclosure url="{MEDIA}" type="image/webp"/></item></channel></rss>',
        None,
    ),
    (
        "RSS HTML",
        "feed.xml",
        f"<rss><channel><item><description>&lt;img src=&quot;{MEDIA}&quot;&gt;"
        "</description></item></channel></rss>",
        None,
    ),
    (
        "Atom enclosure",
        "feed.atom",
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        f'<link rel="enclosure" href="{MEDIA}" type="image/webp"/></entry></feed>',
        None,
    ),
    ("JSON Feed image", "feed.json", f'{{"items": [{{"image": "{MEDIA}"}}]}}', None),
    (
        "JSON Feed attachment",
        "feed.json",
        f'{{"items": [{{"attachments": [{{"url": "{MEDIA}"}}]}}]}}',
        None,
    ),
    (
        "script from the media host",
        "index.html",
        f'<script src="{MEDIA_URL}app.js"></script>',
        "external",
    ),
    (
        "stylesheet from the media host",
        "index.html",
        f'<link rel="stylesheet" href="{MEDIA_URL}style.css">',
        "external",
    ),
    (
        "font from the media host",
        "style.css",
        f"@font-face {{ font-family: x; src: url('{MEDIA_URL}x.woff2'); }}",
        "external",
    ),
    (
        "iframe from the media host",
        "index.html",
        f'<iframe src="{MEDIA_URL}x.html"></iframe>',
        "external",
    ),
    ("JS literal", "app.js", f'fetch("{MEDIA_URL}ab/x.json");', "external"),
    (
        "image from another origin",
        "index.html",
        '<img src="https://cdn.example/a.webp" alt="">',
        "external",
    ),
    (
        "image outside the media folder",
        "index.html",
        '<img src="https://medien.musterstadt.de/anderes/a.webp" alt="">',
        "external",
    ),
    (
        "image climbing out of the folder",
        "index.html",
        f'<img src="{MEDIA_URL}../anderes/a.webp" alt="">',
        "external",
    ),
    (
        "image over plain http",
        "index.html",
        '<img src="http://medien.musterstadt.de/aushang/a.webp" alt="">',
        "external",
    ),
    (
        "enclosure from another origin",
        "feed.xml",
        '<rss><channel><item><enclosure url="https://cdn.example/a.webp" type="image/webp"/>'
        "</item></channel></rss>",
        "external",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [pytest.param(name, content, rule, id=what) for what, name, content, rule in PLANTED_MEDIA],
)
def test_images_on_the_media_host_are_our_own_and_nothing_else_from_it(
    tmp_path: Path, name: str, content: str, expected: str | None
) -> None:
    """With site.media_url, images (and enclosures) in that folder pass; a script, style, font
    or frame from the same host, or an image from anywhere else, is still a finding."""
    body = content if name == "index.html" else ""
    (tmp_path / "index.html").write_text(PAGE.format(body=body), encoding="utf-8")
    (tmp_path / "style.css").write_text("a { color: #036; }", encoding="utf-8")
    if name != "index.html":
        (tmp_path / name).write_text(content, encoding="utf-8")
    apply_policy(tmp_path, media_url=MEDIA_URL)
    findings = scan_site(tmp_path, site_url=SITE_URL, media_url=MEDIA_URL)
    if expected is None:
        assert findings == []
        # ... and without the media host configured, the same image is a third party's
        if name == "index.html" and "<a " not in content:
            apply_policy(tmp_path)
            assert {f.rule for f in scan_site(tmp_path, site_url=SITE_URL)} == {"external-resource"}
    else:
        assert {f.rule for f in findings} == {"external-resource"}, findings
        assert all(finding.path == name for finding in findings)


def test_the_policy_names_the_media_host_in_img_src_only(tmp_path: Path) -> None:
    """The media folder is an img-src source and in no other directive; a page whose policy
    names it passes only when the scan is told about the media host."""
    page = with_policy(PAGE.format(body=f'<img src="{MEDIA}" alt="">'), media_url=MEDIA_URL)
    policy = parse_policy(re.search(r'Content-Security-Policy" content="([^"]*)"', page)[1])
    assert policy["img-src"] == ["'self'", "data:", MEDIA_URL]
    assert [name for name, sources in policy.items() if MEDIA_URL in sources] == ["img-src"]
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    (tmp_path / "style.css").write_text("a { color: #036; }", encoding="utf-8")
    assert scan_site(tmp_path, media_url=MEDIA_URL) == []
    unexpected = scan_site(tmp_path)
    assert any(f.rule == "csp" and f"img-src allows {MEDIA_URL}" in f.detail for f in unexpected)
    moved = page.replace("script-src 'self'", f"script-src 'self' {MEDIA_URL}")
    (tmp_path / "index.html").write_text(moved, encoding="utf-8")
    assert [f.detail for f in scan_site(tmp_path, media_url=MEDIA_URL)] == [
        f"script-src allows {MEDIA_URL}"
    ]


def test_without_a_media_host_the_policy_is_what_it_was() -> None:
    """No media_url (None or ""): the policy is byte for byte the one before media hosts."""
    page = PAGE.format(body="")
    assert with_policy(page) == with_policy(page, media_url=None) == with_policy(page, media_url="")
    assert content_security_policy([]) == (
        "default-src 'self'; img-src 'self' data:; frame-src 'none'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'"
    )


def test_a_scan_in_two_processes_knows_the_media_host(tmp_path: Path) -> None:
    """A site large enough to be scanned in parallel passes the media host to every worker."""
    pages = tmp_path / "beitrag"
    pages.mkdir()
    for number in range(PARALLEL_FROM_FILES):
        (pages / f"{number}.html").write_text(
            PAGE.format(body=f'<img src="{MEDIA_URL}{number:02x}/x-480.webp" alt="">'),
            encoding="utf-8",
        )
    (tmp_path / "style.css").write_text("a { color: #036; }", encoding="utf-8")
    apply_policy(tmp_path, media_url=MEDIA_URL)
    two = scan_report(tmp_path, media_url=MEDIA_URL, processes=2)
    assert two.findings == [] and two.pages_with_policy == PARALLEL_FROM_FILES
    without = scan_report(tmp_path, processes=2)
    assert sum(f.rule == "external-resource" for f in without.findings) == PARALLEL_FROM_FILES


def test_a_scan_alongside_the_build_scans_every_file_once(tmp_path: Path) -> None:
    """BuildScan: the pages handed over while they were written are scanned by the workers
    (a batch before the end, the rest at the end), the files never handed over by
    finish(None); every file is counted once, and a finding in either kind is reported."""
    pages = tmp_path / "beitrag"
    pages.mkdir()
    count = BuildScan.BATCH + 250
    paths = []
    for number in range(count):
        body = '<img src="https://cdn.example.org/x.png" alt="">' if number == 7 else ""
        path = pages / f"{number}.html"
        path.write_text(with_policy(PAGE.format(body=body)), encoding="utf-8")
        paths.append(path)
    (tmp_path / "style.css").write_text(
        "a { background: url(https://fonts.example.net/a.woff2); }", encoding="utf-8"
    )
    scan = BuildScan(tmp_path, processes=2)
    scan.start()
    assert scan.pool is not None
    for path in paths:
        scan.add(path)
    assert len(scan.futures) == 1 and len(scan.pending) == 250  # one batch already on its way
    report = scan.finish()
    assert scan.pool is None
    assert report.files == {"html": count, "css": 1}
    assert report.pages_with_policy == count
    assert [(f.path, f.rule) for f in report.findings] == [
        ("beitrag/7.html", "external-resource"),
        ("style.css", "external-resource"),
    ]
    # an incremental build names what it wrote: only that is scanned
    scan = BuildScan(tmp_path, processes=2)
    scan.start()
    scan.add(paths[7])
    report = scan.finish([paths[7], paths[8]])
    assert report.files == {"html": 2} and len(report.findings) == 1
    # one core: no workers, everything in finish
    one = BuildScan(tmp_path, processes=1)
    one.start()
    one.add(paths[0])
    assert one.pool is None and one.finish().files == {"html": count, "css": 1}


def test_build_refuses_a_site_with_a_third_party_image(tmp_path: Path, server: DemoServer) -> None:
    """A page of the city's own docs that embeds a remote image fails `aushang build`."""
    config = write_config(tmp_path, server)
    (tmp_path / "docs" / "about" / "extern.md").write_text(
        "# Extern\n\n![Logo](https://cdn.example.org/logo.png)\n", encoding="utf-8"
    )
    with pytest.raises(PrivacyError) as raised:
        build_site(config, strict=False)
    message = str(raised.value)
    assert "about/extern/index.html" in message and "external-resource" in message
    assert "https://cdn.example.org/logo.png" in message


# ---------------------------------------------------------------------------------------------
# A link that shows its own URL shows the cleaned one (fetch.clean.html)


def link_texts(html: str) -> list[tuple[str, str]]:
    soup = BeautifulSoup(html, "html.parser")
    return [(str(a["href"]), a.get_text("")) for a in soup.find_all("a")]


def mastodon_link(url: str) -> str:
    """A link as Mastodon writes it: scheme (and www.) invisible, 30 characters shown."""
    match = re.match(r"(https?://(?:www\.)?)(.*)", url)
    assert match is not None
    prefix, rest = match.groups()
    escaped = rest.replace("&", "&amp;")
    return (
        f'<p><a href="{url.replace("&", "&amp;")}" target="_blank" rel="nofollow noopener" '
        f'translate="no"><span class="invisible">{prefix}</span><span class="ellipsis">'
        f'{escaped[:30]}</span><span class="invisible">{escaped[30:]}</span></a></p>'
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.musterstadt.de/stadtfest/galerie?fbclid=IwAR3xDemo7kLmN0pQrStUvWxYz12",
            "https://www.musterstadt.de/stadtfest/galerie",
        ),
        (
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.musterstadt.de%2Fstadtfest%3F"
            "utm_source%3Dfb&h=AT0abc",
            "https://www.musterstadt.de/stadtfest",
        ),
        (
            "https://www.musterstadt.de/abfall/kalender?utm_source=mastodon&utm_medium=social&id=7",
            "https://www.musterstadt.de/abfall/kalender?id=7",
        ),
    ],
)
def test_a_mastodon_link_text_shows_the_cleaned_url(url: str, expected: str) -> None:
    """The invisible/ellipsis spans keep their shape and hold the cleaned URL, nothing else."""
    html = sanitize_html(mastodon_link(url))
    assert link_texts(html) == [(expected, expected)]
    assert parameters_in(html) == [] and "l.facebook.com" not in html
    soup = BeautifulSoup(html, "html.parser")
    spans = soup.find_all("span")
    assert [s.get("class") for s in spans][0] == ["invisible"] and len(spans) == 3
    assert spans[1].get_text() == expected.removeprefix("https://www.")[:30]


def test_a_shortened_link_text_shows_the_cleaned_target() -> None:
    """X and LinkedIn show 'example.org/pfad?utm…': the text becomes the cleaned target."""
    html = sanitize_html(
        '<a href="https://www.musterstadt.de/fest?utm_source=x&amp;tag=2">'
        "musterstadt.de/fest?utm_so…</a>"
    )
    assert link_texts(html) == [
        ("https://www.musterstadt.de/fest?tag=2", "musterstadt.de/fest?tag=2")
    ]
    long = sanitize_html(
        '<a href="https://www.musterstadt.de/veranstaltungen/2026/stadtfest?fbclid=IwAR3">'
        "musterstadt.de/veranstaltungen/2026/stadtfest?fbcl…</a>"
    )
    assert link_texts(long)[0][1] == "musterstadt.de/veranstaltungen/2026/stadtfest"


@pytest.mark.parametrize(
    "html",
    [
        '<p><a href="https://www.musterstadt.de/a" rel="nofollow noopener noreferrer">'
        "https://www.musterstadt.de/a</a></p>",
        '<p><a href="https://www.musterstadt.de/fest" rel="nofollow noopener noreferrer">'
        "musterstadt.de/fe…</a></p>",
        '<p><a href="https://www.musterstadt.de/a?utm_source=x">zum Programm</a></p>',
        '<p><span class="h-card" translate="no"><a href="https://musterstadt.social/@stadt" '
        'class="u-url mention" rel="nofollow noopener noreferrer">@<span>stadt</span></a></span> '
        "&amp; <b>fett</b><br>neu</p>",
    ],
)
def test_other_link_texts_stay_as_they_are(html: str) -> None:
    """Clean URL texts, prose and mentions keep their exact text."""
    before = [text for _, text in link_texts(html)]
    assert [text for _, text in link_texts(sanitize_html(html))] == before
    if "utm_" not in html:
        assert sanitize_html(html) == sanitize_html(sanitize_html(html)) == html


@pytest.mark.parametrize(
    "html",
    [
        '<p>Anmeldung: <a href="https://bit.ly/3kitaMS">bit.ly/3kitaMS</a></p>',
        "<p>Anmeldung: https://t.co/AbCdEf12</p>",
    ],
)
def test_a_short_link_in_a_post_stays_text(html: str) -> None:
    """A reader's browser is never sent to a shortener: the link becomes its text."""
    shown = sanitize_html(html) if "<a " in html else linkify_text(html[3:-4])
    assert "href" not in shown and ("bit.ly/3kitaMS" in shown or "t.co/AbCdEf12" in shown)


def test_link_text_rewriting_keeps_everything_else() -> None:
    """Entities, line breaks and the elements around the link come through unchanged."""
    html = (
        "<p>A &amp; B &lt;3 <strong>fett</strong><br>"
        + mastodon_link("https://www.musterstadt.de/a?utm_source=x")[3:-4]
        + " Ende</p>"
    )
    out = sanitize_html(html)
    assert out.startswith("<p>A &amp; B &lt;3 <strong>fett</strong><br><a ")
    assert out.endswith("</a> Ende</p>")
