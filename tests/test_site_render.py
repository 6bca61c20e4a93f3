"""How the renderer shows every field of a post, from Post objects as the sources make them.

These tests run the real renderer (fetch.site.render) and read its HTML blocks; the built
demo site is read by tests/test_site_pages.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup, Tag

from fetch.clean.html import linkify_text, sanitize_html
from fetch.model import ImageVariant, LinkCard, Media, Origin, Poll, PollOption, Post, Quote
from fetch.site.i18n import MONTHS, STRINGS
from fetch.site.lean import drop_block_breaks
from fetch.site.render import SiteContext, render_site
from fetch.site.text import hashtag_slug, host_label, rewrite_links

CONTEXT = SiteContext(
    language="de",
    timezone="Europe/Berlin",
    account_names={"stadt": "Stadt Musterstadt", "kanal": "Stadt Musterstadt (YouTube)"},
    account_platforms={"stadt": "mastodon", "kanal": "youtube"},
    posts_per_page=3,
)
MASTODON_TAG = (
    '<a href="https://musterstadt.social/tags/stadtfest" class="mention hashtag" '
    'rel="nofollow noopener noreferrer">#<span>Stadtfest</span></a>'
)


def variant(name: str, width: int = 480) -> ImageVariant:
    return ImageVariant(
        path=f"ab/{name}-{width}.webp", width=width, height=width // 2, mime="image/webp"
    )


def post(native_id: str, **fields: object) -> Post:
    values: dict[str, object] = {
        "id": f"mastodon:stadt:{native_id}",
        "platform": "mastodon",
        "account": "stadt",
        "native_id": native_id,
        "url": f"https://musterstadt.social/@stadt/{native_id}",
        "published": f"2026-06-{int(native_id) % 28 + 1:02d}T08:00:00+00:00",
        "text_html": "<p>Ein Beitrag.</p>",
        "language": "de",
    }
    values.update(fields)
    return Post(**values)  # type: ignore[arg-type]


def page(files: dict[str, str], path: str) -> BeautifulSoup:
    text = files[path]
    body = text.split("\n---\n", 1)[1]
    return BeautifulSoup(body, "html.parser")


def article(files: dict[str, str], native_id: str, account: str = "stadt") -> Tag:
    soup = page(files, f"beitrag/{account}/{native_id}/index.md")
    found = soup.select_one("article.aushang-post--full")
    assert found is not None
    return found


def test_mastodon_and_plain_text_hashtags_link_to_our_hashtag_pages() -> None:
    """A Mastodon tag link and a linkified #tag both point at /hashtag/<slug>/, never out."""
    posts = [
        post("1", text_html=f"<p>Heute {MASTODON_TAG}</p>", hashtags=("stadtfest",)),
        post("2", text_html=linkify_text("Morgen #Stadtfest und #ÖPNV")),
    ]
    files = render_site(posts, CONTEXT)
    first = article(files, "1")
    links = first.select("a.aushang-hashtag")
    assert [a["href"] for a in links] == ["../../../hashtag/stadtfest/"]
    assert links[0].get_text() == "#Stadtfest"
    assert not first.select('a[href*="/tags/"]')
    second = article(files, "2")
    hrefs = [a["href"] for a in second.select("a.aushang-hashtag")]
    assert hrefs == ["../../../hashtag/stadtfest/", "../../../hashtag/oepnv/"]
    # spellings of one tag share one page, which lists both posts
    assert "hashtag/stadtfest/index.md" in files
    listing = page(files, "hashtag/stadtfest/index.md")
    assert len(listing.select("ol.aushang-index > li")) == 2
    assert listing.select_one("h1").get_text() == "Beiträge mit #Stadtfest"


def test_every_outgoing_link_in_the_text_shows_its_host() -> None:
    html = sanitize_html(
        '<p>Infos: <a href="https://www.musterstadt.de/baustellen">hier</a> und '
        '<span class="h-card"><a href="https://musterstadt.social/@feuerwehr" '
        'class="u-url mention">@<span>feuerwehr</span></a></span></p>'
    )
    files = render_site([post("1", text_html=html)], CONTEXT)
    text = article(files, "1").select_one(".aushang-post__text")
    assert text is not None
    for link in text.select("a[href^='http']"):
        label = link.find_next_sibling()
        assert label is not None and "aushang-host" in label.get("class", []), link
    hosts = [span.get_text() for span in text.select(".aushang-host")]
    assert hosts == ["(musterstadt.de)", "(musterstadt.social)"]


def test_a_link_text_that_looks_like_a_tag_but_is_not_a_tag_link_stays_external() -> None:
    html = '<p><a href="https://www.musterstadt.de/news/1" rel="nofollow">#1</a></p>'
    out = rewrite_links(html, lambda tag: "X")
    assert 'href="https://www.musterstadt.de/news/1"' in out
    assert host_label("https://www.musterstadt.de/news/1") in out


def test_hashtag_slugs_are_ascii_and_stable() -> None:
    assert hashtag_slug("#ÖPNV") == "oepnv"
    assert hashtag_slug("Straßenfest") == "strassenfest"
    assert hashtag_slug("Haushalt2027") == hashtag_slug("haushalt2027")
    arabic = hashtag_slug("مدينة")
    assert re.fullmatch(r"t-[0-9a-f]{16}", arabic)


def test_a_quoted_post_is_shown_inline_with_its_origin() -> None:
    quoted = Quote(
        origin=Origin(
            name="Feuerwehr Musterstadt",
            handle="@feuerwehr.bsky.social",
            url="https://bsky.app/profile/feuerwehr/post/1",
        ),
        text_html="<p>Bilanz der Nacht: 74 Einsätze.</p>",
        published="2026-07-03T05:40:00+00:00",
    )
    gone = Quote(origin=Origin(name="Landkreis"), unavailable="gelöscht")
    files = render_site([post("1", quote=quoted), post("2", quote=gone)], CONTEXT)
    block = article(files, "1").select_one("blockquote.aushang-quote")
    assert block is not None
    assert block["cite"] == "https://bsky.app/profile/feuerwehr/post/1"
    origin = block.select_one(".aushang-quote__meta a")
    assert origin is not None and origin.get_text() == "Feuerwehr Musterstadt"
    assert "(bsky.app)" in block.get_text()
    assert "@feuerwehr.bsky.social" in block.get_text()
    assert "3. Juli 2026" in block.get_text()
    assert "74 Einsätze" in block.get_text()
    missing = article(files, "2").select_one(".aushang-quote__unavailable")
    assert missing is not None
    assert missing.get_text() == "Der zitierte Beitrag ist nicht verfügbar (gelöscht)."


def test_a_repost_names_its_origin_with_a_link() -> None:
    origin = Origin(
        name="Feuerwehr Musterstadt",
        handle="@feuerwehr@musterstadt.social",
        url="https://musterstadt.social/@feuerwehr/116",
    )
    files = render_site([post("1", repost_of=origin)], CONTEXT)
    line = article(files, "1").select_one(".aushang-post__repost")
    assert line is not None
    assert line.get_text(" ", strip=True).startswith("Stadt Musterstadt teilt einen Beitrag von")
    link = line.select_one("a")
    assert link is not None and link["href"] == origin.url
    assert "@feuerwehr@musterstadt.social" in line.get_text()


def test_a_titled_video_post_shows_its_title_and_a_poster_that_links_out() -> None:
    video = Media(
        kind="video",
        alt="Aufzeichnung der Sitzung",
        variants=(variant("poster", 480), variant("poster", 960)),
        url="https://www.youtube.com/watch?v=abc",
    )
    titled = replace(
        post("1", title="Live: Einwohnerversammlung", media=(video,)),
        id="youtube:kanal:abc",
        platform="youtube",
        account="kanal",
        native_id="abc",
    )
    files = render_site([titled], CONTEXT)
    soup = page(files, "beitrag/kanal/abc/index.md")
    assert soup.select_one("h1").get_text() == "Live: Einwohnerversammlung"
    full = soup.select_one("article.aushang-post--full")
    assert full is not None and full.select_one("h2.aushang-post__title") is None
    poster = full.select_one("a.aushang-media__poster")
    assert poster is not None and poster["href"] == "https://www.youtube.com/watch?v=abc"
    image = poster.select_one("img")
    assert image is not None and image["alt"] == "Aufzeichnung der Sitzung"
    assert image["src"].startswith("../../../media/")
    assert "Video ansehen auf YouTube" in poster.get_text()
    assert "(youtube.com)" in poster.get_text()
    assert not soup.select("video, audio, iframe")
    # in listings the title is a heading that links to the post
    listing = page(files, "konto/kanal/index.md")
    heading = listing.select_one("h2.aushang-post__title a")
    assert heading is not None and heading["href"] == "../../beitrag/kanal/abc/"


def test_a_link_card_shows_a_rehosted_thumbnail_and_its_host() -> None:
    card = LinkCard(
        url="https://www.musterstadt.de/stadtfest",
        title="Stadtfest 2026",
        description="Drei Tage Musik.",
        image=Media(kind="image", variants=(variant("card"),)),
    )
    files = render_site([post("1", card=card)], CONTEXT)
    link = article(files, "1").select_one("a.aushang-card")
    assert link is not None and link["href"] == card.url
    assert "nofollow" in link["rel"]
    image = link.select_one("img")
    assert image is not None and image["src"] == "../../../media/ab/card-480.webp"
    assert image["alt"] == ""  # decorative: the title beside it names the link
    assert link.select_one(".aushang-card__title").get_text() == "Stadtfest 2026"
    assert "musterstadt.de" in link.select_one(".aushang-card__host").get_text()


def test_images_are_a_gallery_with_alt_text_or_a_visible_note() -> None:
    media = (
        Media(kind="image", alt="Die Bühne am Abend", variants=(variant("a"), variant("a", 960))),
        Media(kind="image", variants=(variant("b"),)),
        Media(kind="image", alt="Nicht übernommen", rejected="too large"),
    )
    files = render_site([post("1", media=media)], CONTEXT)
    figures = article(files, "1").select(".aushang-media__item")
    assert len(figures) == 3
    first = figures[0].select_one("img")
    assert first is not None and first["alt"] == "Die Bühne am Abend"
    assert "960w" in first["srcset"]
    assert figures[0].select_one("a.aushang-media__full")["href"].endswith("a-960.webp")
    note = figures[1].select_one(".aushang-media__alt--missing")
    assert note is not None and note.get_text() == "Bildbeschreibung fehlt"
    # a link around an image without alt text still has a name
    full_link = figures[1].select_one("a.aushang-media__full")
    assert full_link is not None and full_link.get_text(strip=True)
    assert "konnte nicht übernommen werden" in figures[2].get_text()


def test_content_warning_poll_edit_and_pin() -> None:
    poll = Poll(
        options=(PollOption("Lindenpark", 412), PollOption("Park am Mühlbach", 689)),
        closed=True,
        voters=1101,
    )
    files = render_site(
        [
            post(
                "1",
                content_warning="Unwetter",
                poll=poll,
                edited="2026-06-02T09:12:00+00:00",
                pinned=True,
            )
        ],
        CONTEXT,
    )
    full = article(files, "1")
    details = full.select_one("details.aushang-cw")
    assert details is not None and not details.has_attr("open")
    assert "Inhaltswarnung: Unwetter" in details.select_one("summary").get_text()
    assert details.select_one(".aushang-poll") is not None  # hidden behind the warning
    assert "Park am Mühlbach: 63 % (689 Stimmen)" in full.get_text()
    badge = full.select_one(".aushang-badge time")
    assert badge is not None and badge["datetime"] == "2026-06-02T09:12:00+00:00"
    assert "bearbeitet" in badge.parent.get_text()
    assert "angeheftet" in full.select_one("header").get_text()


def test_a_self_thread_is_one_conversation_on_each_of_its_pages() -> None:
    root = post("1", text_html="<p>Teil eins</p>")
    second = post("2", text_html="<p>Teil zwei</p>", reply_to=root.id)
    third = post("3", text_html="<p>Teil drei</p>", reply_to=second.id)
    files = render_site([third, root, second], CONTEXT)
    soup = page(files, "beitrag/stadt/2/index.md")
    items = soup.select("ol.aushang-thread__list > li")
    assert [i.select_one(".aushang-post__text").get_text() for i in items] == [
        "Teil eins",
        "Teil zwei",
        "Teil drei",
    ]
    assert [i.get("aria-current") for i in items] == [None, "true", None]
    # the other parts' dates link to their pages; the page's own post's date links nowhere
    dates = [i.select_one(".aushang-post__date") for i in items]
    assert [d.name for d in dates] == ["a", "span", "a"]
    assert dates[0]["href"] == "../../../beitrag/stadt/1/"
    assert soup.select_one("#aushang-thread-heading").get_text() == "Thread mit 3 Beiträgen"
    listing = page(files, "index.md")
    parts = [p.get_text() for p in listing.select(".aushang-post__thread")]
    assert "Teil 2 von 3 eines Threads" in parts


def test_post_language_is_on_the_article_and_the_site_words_keep_the_site_language() -> None:
    files = render_site([post("1", language="tr", text_html="<p>Duyuru</p>")], CONTEXT)
    full = article(files, "1")
    assert full["lang"] == "tr"
    assert full.select_one("header")["lang"] == "de"
    assert full.select_one("footer")["lang"] == "de"


def test_browsing_pages_per_account_platform_month_and_hashtag() -> None:
    posts = [
        post(str(i), published=f"2026-0{6 + i % 2}-0{i % 9 + 1}T08:00:00+00:00") for i in range(7)
    ]
    files = render_site(posts, CONTEXT)
    for path in (
        "index.md",
        "konto/stadt/index.md",
        "konto/kanal/index.md",
        "plattform/mastodon/index.md",
        "plattform/youtube/index.md",
        "archiv/index.md",
        "archiv/2026/06/index.md",
        "archiv/2026/07/index.md",
        "konto/index.md",
        "hashtag/index.md",
        "suche/index.md",
    ):
        assert path in files, path
    archive = page(files, "archiv/index.md")
    months = {a.get_text(): a.find_next_sibling().get_text() for a in archive.select("li a")}
    assert months == {"Juli 2026": "(3 Beiträge)", "Juni 2026": "(4 Beiträge)"}
    june = page(files, "archiv/2026/06/index.md")
    assert june.select_one("h1").get_text() == "Juni 2026"
    # a month lists its posts as index lines, five times posts_per_page to a page
    lines = june.select("ol.aushang-index > li")
    assert len(lines) == 4
    assert not [path for path in files if path.startswith("archiv/2026/06/seite/")]
    first = lines[0]
    assert first.select_one("time")["datetime"] == "2026-06-07"  # the day, in the site's zone
    assert first.select_one("a")["href"] == "../../../beitrag/stadt/6/"
    # posts_per_page is 3: the timeline's first page shows the newest 3 as teasers, an
    # account's numbered pages the others as lines (15 to a page, counted from the oldest post)
    assert len(page(files, "index.md").select(".aushang-feed > article")) == 3
    assert len(page(files, "konto/stadt/seite/1/index.md").select("ol.aushang-index > li")) == 4
    assert "konto/stadt/seite/2/index.md" not in files
    # the timeline has no numbered pages: its older posts are the months' pages
    assert not [path for path in files if path.startswith("seite/")]
    empty = page(files, "konto/kanal/index.md")
    assert (
        empty.select_one("p").get_text()
        == "Alle Beiträge von Stadt Musterstadt (YouTube) auf YouTube, neueste zuerst."
    )
    assert "Noch keine Beiträge." in empty.get_text()


def navigation(files: dict[str, str], path: str) -> dict[str, tuple[str, str]]:
    """The links of a listing page's navigation: which of them (rel or text), where to."""
    nav = page(files, path).select_one("nav.aushang-pagination")
    assert nav is not None, path
    return {str(a.get("rel", [a.get_text()])[0]): (a["href"], a.get_text()) for a in nav("a")}


def test_the_older_posts_of_the_timeline_are_the_months_one_leading_to_the_next() -> None:
    """The timeline has only its first page; its "older" link goes to the month of the first
    post it does not show. A month's oldest page leads to the month before (its newest page),
    its newest page to the month after (that month's oldest page); a month without posts is
    skipped."""
    posts = [post(f"7{i}", published=f"2026-07-0{i + 1}T08:00:00+00:00") for i in range(2)]
    posts += [
        post(f"6{i:02d}", published=f"2026-06-{i % 28 + 1:02d}T09:00:00+00:00") for i in range(35)
    ]
    posts += [post(f"4{i}", published=f"2026-04-0{i + 1}T08:00:00+00:00") for i in range(4)]
    files = render_site(posts, CONTEXT)
    assert not [path for path in files if path.startswith("seite/")]
    assert navigation(files, "index.md") == {
        "next": ("archiv/2026/06/", "Ältere Beiträge: Juni 2026"),
        "Älteste": ("archiv/2026/04/", "Älteste"),
    }
    assert navigation(files, "archiv/2026/07/index.md") == {
        "next": ("../../../archiv/2026/06/", "Ältere Beiträge: Juni 2026"),
    }
    # June: 35 posts, 15 lines to a page: the first page holds the newest 20, page 1 the rest
    assert navigation(files, "archiv/2026/06/index.md") == {
        "prev": ("../../../archiv/2026/07/", "Neuere Beiträge: Juli 2026"),
        "next": ("../../../archiv/2026/06/seite/1/", "Ältere Beiträge"),
    }
    assert navigation(files, "archiv/2026/06/seite/1/index.md") == {
        "prev": ("../../../../../archiv/2026/06/", "Neuere Beiträge"),
        "next": ("../../../../../archiv/2026/04/", "Ältere Beiträge: April 2026"),
    }
    assert navigation(files, "archiv/2026/04/index.md") == {
        "prev": ("../../../archiv/2026/06/seite/1/", "Neuere Beiträge: Juni 2026"),
    }
    assert "archiv/2026/05/index.md" not in files
    # a timeline that shows every post has no navigation
    few = render_site(posts[:3], CONTEXT)
    assert page(few, "index.md").select_one("nav.aushang-pagination") is None


def test_a_platform_page_lists_its_newest_posts_and_names_the_accounts_with_all() -> None:
    """A platform's posts are all on its accounts' pages; its own page shows the newest page of
    lines (15 here) and links those accounts, without numbered pages."""
    context = replace(
        CONTEXT,
        account_names={**CONTEXT.account_names, "feuerwehr": "Feuerwehr Musterstadt"},
        account_platforms={**CONTEXT.account_platforms, "feuerwehr": "mastodon"},
    )
    posts = [post(str(i), published=f"2026-06-{i + 1:02d}T08:00:00+00:00") for i in range(20)]
    posts += [
        post(f"9{i}", account="feuerwehr", id=f"mastodon:feuerwehr:9{i}",
             published=f"2026-05-{i + 1:02d}T08:00:00+00:00")
        for i in range(5)
    ]  # fmt: skip
    files = render_site(posts, context)
    mastodon = page(files, "plattform/mastodon/index.md")
    lines = mastodon.select("ol.aushang-index > li > a")
    assert [a["href"] for a in lines] == [f"../../beitrag/stadt/{i}/" for i in range(19, 4, -1)]
    assert not [path for path in files if path.startswith("plattform/mastodon/seite/")]
    assert mastodon.select_one("nav.aushang-pagination") is None
    browse = mastodon.select_one("p.aushang-browse")
    assert browse.get_text() == (
        "Alle Beiträge auf Mastodon finden Sie bei den Konten: "
        "Feuerwehr Musterstadt, Stadt Musterstadt."
    )
    assert [a["href"] for a in browse("a")] == ["../../konto/feuerwehr/", "../../konto/stadt/"]
    youtube = page(files, "plattform/youtube/index.md").select_one("p.aushang-browse")
    assert youtube.get_text().startswith("Alle Beiträge auf YouTube finden Sie beim Konto: ")
    # the accounts' overview links the platform's page as its newest posts, without a count
    overview = page(files, "konto/index.md")
    link = overview.find("a", href="../plattform/mastodon/")
    assert link.get_text() == "Neueste Beiträge auf Mastodon"
    assert link.parent.select_one(".aushang-count") is None


def test_index_lines_name_day_account_and_text_and_hold_five_pages_of_teasers() -> None:
    long_text = "Sperrung " + "der Ringstraße wegen Bauarbeiten " * 10
    posts = [
        post(str(i), published=f"2026-06-{i + 1:02d}T08:00:00+00:00", text_html=f"<p>Nr. {i}</p>")
        for i in range(19)
    ]
    posts[18] = post("18", published="2026-06-19T08:00:00+00:00", text_html=f"<p>{long_text}</p>")
    posts[17] = post(
        "17",
        published="2026-06-18T08:00:00+00:00",
        content_warning="Unfall",
        text_html="<p>Details des Unfalls</p>",
    )
    posts[16] = post(
        "16", published="2026-06-17T08:00:00+00:00", language="en", text_html="<p>Hello</p>"
    )
    files = render_site(posts, CONTEXT)
    june = page(files, "archiv/2026/06/index.md")
    lines = june.select("ol.aushang-index > li")
    # 19 posts, 15 lines to a page (5 x posts_per_page): the newest full page and the rest
    assert len(lines) == 19
    assert "archiv/2026/06/seite/1/index.md" not in files
    # an account: the newest 3 as teasers; the numbered pages, cut at 15 from the oldest
    # post, leave those out: page 2 holds the one post after them, page 1 the oldest 15
    account = "konto/stadt/"
    assert len(page(files, account + "index.md").select(".aushang-feed > article")) == 3
    assert len(page(files, account + "seite/2/index.md").select("ol.aushang-index > li")) == 1
    assert len(page(files, account + "seite/1/index.md").select("ol.aushang-index > li")) == 15
    assert account + "seite/3/index.md" not in files
    newest, warned, english = lines[0], lines[1], lines[2]
    assert newest.select_one("time").get_text() == "19. Juni 2026"
    assert "Stadt Musterstadt" in newest.get_text()
    link = newest.select_one("a")
    assert link["href"] == "../../../beitrag/stadt/18/"
    assert link.get_text().startswith("Sperrung der Ringstraße")
    assert link.get_text().endswith(" …") and len(link.get_text()) <= 80
    # a content warning stands in for the text, as in the teaser
    assert warned.select_one("a").get_text() == "Inhaltswarnung: Unfall"
    assert "Details" not in warned.get_text()
    # ... and for a title too
    titled = post(
        "30",
        published="2026-07-01T08:00:00+00:00",
        title="Unfall auf der B 27",
        content_warning="Unfall",
        text_html="<p>Details</p>",
    )
    july = page(render_site([titled], CONTEXT), "archiv/2026/07/index.md")
    assert july.select_one("ol.aushang-index > li > a").get_text() == "Inhaltswarnung: Unfall"
    # a post in another language says so on its text
    assert english.select_one("a")["lang"] == "en"
    assert newest.select_one("a").get("lang") is None


def test_front_matter_survives_emoji_and_quotes() -> None:
    """The page title goes into YAML front matter; emoji and quotes must not break it."""
    import yaml

    files = render_site([post("1", text_html='<p>Danke 🎉 für „alles“ "hier"</p>')], CONTEXT)
    head = files["beitrag/stadt/1/index.md"].split("\n---\n", 1)[0].removeprefix("---\n")
    meta = yaml.safe_load(head)
    # straight quotes become typographic ones: the theme writes the title unescaped
    assert meta["title"] == "Danke 🎉 für „alles“ ”hier”"


@pytest.mark.parametrize("language", sorted(STRINGS))
def test_every_language_has_every_word(language: str) -> None:
    assert set(STRINGS[language]) == set(STRINGS["de"])
    assert len(MONTHS[language]) == 12


def test_english_site() -> None:
    context = replace(CONTEXT, language="en")
    files = render_site([post("1", edited="2026-06-02T09:12:00+00:00")], context)
    soup = page(files, "index.md")
    assert soup.select_one("h1").get_text() == "All posts"
    assert "edited" in soup.select_one(".aushang-badge").get_text()
    assert page(files, "archiv/index.md").select_one("li a").get_text() == "June 2026"


def test_a_post_behind_a_content_warning_does_not_give_it_away_in_title_or_description() -> None:
    warned = post(
        "41",
        content_warning="Unwetterwarnung",
        text_html="<p>UNWETTERWARNUNG: Sturmböen bis 100 km/h erwartet.</p>",
    )
    files = render_site([warned], CONTEXT)
    front_matter = files["beitrag/stadt/41/index.md"].split("\n---\n", 1)[0]
    assert "Sturm" not in front_matter and "100 km" not in front_matter
    assert "Inhaltswarnung: Unwetterwarnung" in front_matter
    details = page(files, "beitrag/stadt/41/index.md").find("details")
    assert details is not None and "Sturmböen" in details.get_text()


def test_a_poll_with_hidden_counts_shows_no_made_up_percentages() -> None:
    running = post(
        "42",
        poll=Poll(options=(PollOption("Lindenpark"), PollOption("Mühlenwiese")), closed=False),
    )
    text = page(render_site([running], CONTEXT), "beitrag/stadt/42/index.md").get_text()
    assert "0 %" not in text
    assert STRINGS["de"]["poll_hidden"] in text


def test_post_text_cannot_inject_markup_through_the_page_title_or_description() -> None:
    """mkdocs-material writes title and description unescaped; post text must not break out."""
    hostile = '"><meta http-equiv="refresh" content="0;url=https://example.org/"><script>x</script>'
    files = render_site([post("43", text_html=f"<p>{hostile.replace('<', '&lt;')}</p>")], CONTEXT)
    front_matter = files["beitrag/stadt/43/index.md"].split("\n---\n", 1)[0]
    for line in front_matter.splitlines():
        if line.startswith(("title:", "description:")):
            value = line.split(":", 1)[1].strip()
            inner = value[1:-1]  # the JSON string's own quotes
            assert "<" not in inner and ">" not in inner and '"' not in inner, line
    assert "refresh" in front_matter  # the text is still there, only defused


def test_templates_lose_only_the_line_breaks_next_to_block_tags() -> None:
    """A browser renders no line break next to a block's tag; one between inline elements or
    words is a space and stays, and so does everything inside <pre>."""
    source = (
        '<div class="a">\n  <p>Text\n{{ x }}\n</p>\n<a href="#">eins</a>\n<a href="#">zwei</a>'
        "\n</div>\n<pre>\n<p>\n</pre>\n<span>a</span> <span>b</span>"
    )
    assert drop_block_breaks(source) == (
        '<div class="a"><p>Text\n{{ x }}</p><a href="#">eins</a>\n<a href="#">zwei</a></div>'
        "<pre>\n<p>\n</pre>\n<span>a</span> <span>b</span>"
    )
    # the rendered post page has no line break next to a block tag
    files = render_site([post("1")], CONTEXT)
    assert not re.search(
        r"\n</?(?:div|p|article|header|footer|nav|li|ul)[\s>]",
        files["beitrag/stadt/1/index.md"].split("---\n", 2)[2].strip(),
    )
