"""Turn archived posts into the Markdown pages mkdocs builds: pure, no I/O.

Posts are written as Markdown files that hold one HTML block each, made by our own Jinja2
templates (``templates/``). The theme only frames them: nothing here depends on
mkdocs-material's internals, so the same generated pages build with another mkdocs-compatible
generator (Zensical reads the same ``docs_dir``).

The pages (every URL relative to the site root, with a trailing slash):

=========================  ===========================================================
``beitrag/<account>/<id>/``  one post (its whole self-thread around it); a permalink that
                             does not change when the post is edited
``""``, ``seite/<n>/``       the home timeline, newest first, paginated
``konto/<account>/``         one account's posts (paginated like the timeline)
``plattform/<name>/``        one platform's posts
``hashtag/<slug>/``          the posts with one hashtag (spellings grouped by ``hashtag_slug``)
``archiv/<yyyy>/<mm>/``      one month (in the site's time zone)
``archiv/``, ``konto/``,     overviews: months with counts, accounts and platforms,
``hashtag/``, ``suche/``     hashtags with counts, the search page
=========================  ===========================================================

Posts are never put into the mkdocs nav: with thousands of entries that makes the build
quadratic. Only the overview pages are (see ``mkdocs.yml``).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..archive import slug
from ..clean.html import html_to_text
from ..model import Post
from ..sources import registry
from ..times import format_date_de, format_date_en, local
from .i18n import MONTHS, STRINGS
from .lean import drop_block_breaks
from .search import RECENT_YEARS
from .text import (
    hashtag_key,
    hashtag_slug,
    hashtags_in,
    host_label,
    host_of,
    rewrite_links,
    shift_headings,
)

TEMPLATES = Path(__file__).parent / "templates"
POSTS_DIR = "beitrag"
PAGES_DIR = "seite"
ACCOUNTS_DIR = "konto"
PLATFORMS_DIR = "plattform"
HASHTAGS_DIR = "hashtag"
ARCHIVE_DIR = "archiv"
SEARCH_DIR = "suche"
FEEDS_DIR = "feed"
FEED_KINDS = ("rss", "atom", "json")
FEED_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True)
class SiteContext:
    """What the renderer needs to know about the city and its accounts."""

    language: str
    timezone: str
    account_names: dict[str, str]
    posts_per_page: int = 20
    account_platforms: dict[str, str] = field(default_factory=dict)
    site_title: str = "Aushang"
    media_url: str = ""  # site.media_url: the media folder on another host; "" = media/


# Stands for the relative path back to the site root in a teaser, which is rendered once and
# shown in listings at several depths; each listing page puts its own path in.
BASE = "\x1a"
# A post's text up to this many characters is shown whole in listings, a longer one shortened.
TEASER_CHARS = 280
# An index line (hashtag, month and platform listings, older pages of the timeline and the
# accounts) holds this much of the text, and a page of lines holds LINES_PER_TEASER times as
# many posts as a page of teasers.
LINE_CHARS = 80
LINES_PER_TEASER = 5


@dataclass(frozen=True)
class Page:
    """A generated page: its URL (relative to the site root, "" for the home page), the title
    and description for the frame, and the HTML of its content."""

    url: str
    title: str
    description: str
    body: str
    feeds: tuple[dict[str, str], ...] = ()  # announced in <head> as <link rel="alternate">
    frame: str = ""  # the nav page whose frame it wears ("index.md"); "" = its depth's frame

    @property
    def path(self) -> str:
        return self.url + "index.html"

    def markdown(self) -> str:
        """The page as a Markdown file with front matter, as another generator reads it."""
        front = {"title": self.title, "description": self.description}
        lines = [f"{key}: {yaml_value(value)}" for key, value in front.items()]
        if self.feeds:
            lines.append(f"aushang_feeds: {yaml_value(list(self.feeds))}")
        return "---\n" + "\n".join(lines) + "\n---\n\n" + self.body


@dataclass(frozen=True)
class Listed:
    """What the listings need of a post: where it is listed, its teaser and its day."""

    id: str
    account: str
    platform: str
    month: tuple[int, int]
    tag_slugs: tuple[str, ...]
    teaser: str
    day: str
    line: str = ""  # the post in an index: one line (templates/line.html)


@dataclass(frozen=True)
class Link:
    """A link of a listing's navigation: where to, and what it says."""

    href: str
    label: str


@dataclass(frozen=True)
class QuoteView:
    name: str
    handle: str
    url: str
    date: str
    published: str
    unavailable: str
    text_html: str


@dataclass(frozen=True)
class PostView:
    """A post with everything a template needs precomputed (dates, URLs, labels)."""

    post: Post
    url: str  # relative to the site root, with trailing slash
    anchor: str
    account_name: str
    account_url: str
    platform_label: str
    platform_url: str
    date: str
    edited_date: str
    reply_to_url: str | None
    card_host: str
    poll_options: tuple[dict[str, Any], ...]
    month: tuple[int, int]
    tag_slugs: tuple[str, ...]
    quote: QuoteView | None
    title: str
    poll_ends: str = ""
    thread_index: int = 0  # 1-based position in its self-thread, 0 when not in one
    thread_size: int = 0


def post_url(post: Post) -> str:
    return f"{POSTS_DIR}/{post.account}/{slug(post.native_id)}/"


def page_url(number: int) -> str:
    """A numbered page of a listing; page 1 holds its oldest posts."""
    return f"{PAGES_DIR}/{number}/"


def account_url(account: str) -> str:
    return f"{ACCOUNTS_DIR}/{account}/"


def platform_url(platform: str) -> str:
    return f"{PLATFORMS_DIR}/{platform}/"


def hashtag_url(tag_slug: str) -> str:
    return f"{HASHTAGS_DIR}/{tag_slug}/"


def month_url(year: int, month: int) -> str:
    return f"{ARCHIVE_DIR}/{year:04d}/{month:02d}/"


def feed_path(kind: str, account: str | None = None) -> str:
    """Where a feed lives: ``feed/rss.xml`` for everything, ``feed/konto/<key>.rss.xml`` …

    All feeds sit under ``feed/`` beside an empty ``sitemap.xml`` (see ``fetch.site.feeds``).
    """
    if account is None:
        return f"{FEEDS_DIR}/" + {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}[kind]
    return (
        f"{FEEDS_DIR}/{ACCOUNTS_DIR}/{account}."
        + {
            "rss": "rss.xml",
            "atom": "atom.xml",
            "json": "json",
        }[kind]
    )


def feed_links(account: str | None, title: str, strings: dict[str, str]) -> list[dict[str, str]]:
    """The three feeds of a listing, as {kind, type, label, title, href (relative to root)}."""
    return [
        {
            "kind": kind,
            "type": FEED_TYPES[kind],
            "label": strings[f"feed_{kind}"],
            "title": f"{title} ({strings[f'feed_{kind}']})",
            "href": feed_path(kind, account),
        }
        for kind in FEED_KINDS
    ]


# Our templates are read without the line breaks next to block tags (lean.drop_block_breaks):
# a browser renders none of them, and they cost 30 bytes of HTML per post. So the templates
# keep their line breaks for the reader, and the pages get none there.
class _BlockBreaksDropped(jinja2.FileSystemLoader):
    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        return drop_block_breaks(source), filename, uptodate


class Renderer:
    """Renders views into pages with the templates; ``text`` rewrites post HTML per page depth
    (cached, since a post appears on its own page and in several listings)."""

    def __init__(self, context: SiteContext) -> None:
        self.context = context
        self.strings = STRINGS[context.language]
        self.months = MONTHS[context.language]
        self.env = jinja2.Environment(
            loader=_BlockBreaksDropped(TEMPLATES),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            trim_blocks=False,
            lstrip_blocks=False,
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters["host_label"] = lambda url: Markup(host_label(url))  # noqa: S704 (escaped inside)
        self.env.filters["host"] = host_of
        self.env.filters["yaml"] = yaml_value
        self.env.globals["fmt"] = _format
        self.env.globals["ui_lang"] = context.language
        self.env.globals["browse_links"] = self.browse_links
        self.env.globals["media"] = self.media_root
        self.tag_names: dict[str, str] = {}  # slug -> shown spelling
        self._text_cache: dict[tuple[str, str], Markup] = {}
        self._templates = {
            name: self.env.get_template(name)
            for name in ("post_page.html", "listing.html", "overview.html", "search.html")
        }
        self._teaser = self.env.get_template("teaser.html")
        self._line = self.env.get_template("line.html")

    # -- views ---------------------------------------------------------------------------------
    def view(self, post: Post, urls: dict[str, str]) -> PostView:
        options: list[dict[str, Any]] = []
        if post.poll:
            total = sum(o.votes or 0 for o in post.poll.options)
            # A running poll may hide its counts: then there is no share to show, not 0 %.
            hidden = all(o.votes is None for o in post.poll.options)
            for option in post.poll.options:
                share = None if hidden else round(100 * (option.votes or 0) / total) if total else 0
                options.append({"title": option.title, "votes": option.votes, "percent": share})
        source = registry.get(post.platform)
        moment = local(post.published, self.context.timezone)
        quote = None
        if post.quote:
            quote = QuoteView(
                name=post.quote.origin.name or post.quote.origin.handle,
                handle=post.quote.origin.handle,
                url=post.quote.origin.url,
                date=self._date(post.quote.published) if post.quote.published else "",
                published=post.quote.published or "",
                unavailable=post.quote.unavailable,
                text_html=post.quote.text_html,
            )
        account_name = self.context.account_names.get(post.account, post.account)
        return PostView(
            post=post,
            url=urls[post.id],
            anchor="p-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{post.account}-{slug(post.native_id)}"),
            account_name=account_name,
            account_url=account_url(post.account),
            platform_label=source.label if source else post.platform,
            platform_url=platform_url(post.platform),
            date=self._date(post.published),
            edited_date=self._date(post.edited) if post.edited else "",
            reply_to_url=urls.get(post.reply_to) if post.reply_to else None,
            card_host=host_of(post.card.url) if post.card else "",
            poll_options=tuple(options),
            month=(moment.year, moment.month),
            tag_slugs=tuple(dict.fromkeys(hashtag_slug(t) for t in post_hashtags(post))),
            quote=quote,
            title=_title(
                post, account_name, self._date_only(post.published), self.strings["content_warning"]
            ),
            poll_ends=self._date(post.poll.expires_at)
            if post.poll and post.poll.expires_at and not post.poll.closed
            else "",
        )

    def text(self, html: str, base: str, heading: int = 2, tags: bool = True) -> Markup:
        """Post HTML for a page at ``base``: hashtags to our pages, host labels on links, its
        headings starting at ``h<heading>``. ``tags=False`` (a quoted post of someone else)
        leaves hashtags as text: the archive may have no page for them."""
        key = (html, f"{heading}{tags}{base}")
        cached = self._text_cache.get(key)
        if cached is None:

            def tag_url(tag: str) -> str | None:
                return base + hashtag_url(hashtag_slug(tag)) if tags else None

            cached = Markup(shift_headings(rewrite_links(html, tag_url), heading))  # noqa: S704 (sanitized at archive time)
            if len(self._text_cache) > 50_000:
                self._text_cache.clear()
            self._text_cache[key] = cached
        return cached

    def media_root(self, base: str) -> str:
        """Where a page at ``base`` finds the media folder: beside it, or ``site.media_url``."""
        return self.context.media_url or base + "media/"

    def browse_links(self, base: str) -> Markup:
        """The sentence on the home page that names every way to browse the archive."""
        t = self.strings
        links = {
            name: Markup('<a href="{}">{}</a>').format(base + url, t[name])
            for name, url in (
                ("archive", ARCHIVE_DIR + "/"),
                ("accounts", ACCOUNTS_DIR + "/"),
                ("hashtags", HASHTAGS_DIR + "/"),
                ("search", SEARCH_DIR + "/"),
            )
        }
        return escape(t["browse_text"]).format(**links)

    def _date(self, value: str, *, with_time: bool = True) -> str:
        formatter = format_date_de if self.context.language == "de" else format_date_en
        return formatter(value, self.context.timezone, with_time=with_time)

    def _date_only(self, value: str) -> str:
        return self._date(value, with_time=False)

    def month_name(self, year: int, month: int) -> str:
        return f"{self.months[month - 1]} {year}"

    def count(self, number: int) -> str:
        if number == 1:
            return self.strings["posts_count_one"]
        return self.strings["posts_count"].format(count=number)

    def _render(self, template: str, **values: Any) -> str:
        values.setdefault("index", False)  # only a post's own page goes into the search index
        values.setdefault("heading_is_title", False)
        values.setdefault("in_thread", False)
        return _tidy(self._templates[template].render(t=self.strings, text=self.text, **values))

    # -- pages ---------------------------------------------------------------------------------
    def post_page(self, view: PostView, thread: list[PostView]) -> Page:
        t = self.strings
        heading = view.post.title or (
            f"{t['post_by']} {view.account_name} {t['from']} {self._date_only(view.post.published)}"
        )
        body = self._render(
            "post_page.html",
            heading=heading,
            heading_is_title=bool(view.post.title),
            thread=thread or [view],
            current_id=view.post.id,
            in_thread=len(thread) > 1,
            account_link={
                "href": view.account_url,
                "label": t["more_from"].format(name=view.account_name),
            },
            index=True,
            base=_base(view.url),
        )
        return Page(
            url=view.url,
            title=view.title,
            description=_description(view.post, self.strings["content_warning"]),
            body=body,
        )

    def teaser(self, view: PostView) -> Listed:
        """The post as a listing shows it, rendered once for every listing it is in."""
        post, t = view.post, self.strings
        plain = " ".join(html_to_text(post.text_html).split())
        short = len(plain) <= TEASER_CHARS
        excerpt = plain if short else plain[: TEASER_CHARS - 1].rsplit(" ", 1)[0] + " …"
        visual = [m for m in post.media if m.variants]
        thumb = visual[0] if visual else None
        extras: list[str] = []
        images = sum(1 for m in post.media if m.kind == "image")
        if images > 1:
            extras.append(t["images_count"].format(count=images))
        for kind in dict.fromkeys(m.kind for m in post.media if m.kind != "image"):
            extras.append(t.get("media_" + kind, kind))
        if post.poll:
            extras.append(t["poll"])
        if post.quote:
            extras.append(t["quote"])
        if post.card:
            extras.append(t["link_preview"])
        if view.thread_size:
            extras.append(t["thread_part"].format(index=view.thread_index, count=view.thread_size))
        html = _tidy(
            self._teaser.render(
                t=t,
                text=self.text,
                p=view,
                base=BASE,
                short=short and bool(post.text_html),
                excerpt=excerpt,
                thumb=thumb.variants[0] if thumb else None,
                thumb_alt=thumb.alt if thumb else "",
                extras=extras,
            )
        ).strip()
        day = self._date_only(post.published)
        # behind a content warning only the warning shows, as in the teaser and the title
        summary = post.content_warning or post.title or plain
        if len(summary) > LINE_CHARS:
            summary = summary[: LINE_CHARS - 1].rsplit(" ", 1)[0] + " …"
        if post.content_warning:
            summary = f"{t['content_warning']}: {summary}"
        line = _tidy(
            self._line.render(
                p=view,
                base=BASE,
                day=day,
                day_iso=local(post.published, self.context.timezone).date().isoformat(),
                summary=summary or t["permalink"],
                extras=extras,
            )
        ).strip()
        return Listed(
            id=post.id,
            account=post.account,
            platform=post.platform,
            month=view.month,
            tag_slugs=view.tag_slugs,
            teaser=html,
            day=day,
            line=line,
        )

    def listing_pages(
        self,
        items: list[Listed],
        *,
        directory: str,
        title: str,
        intro: str = "",
        feeds: list[dict[str, str]] | None = None,
        announce: bool = True,
        search_form: bool = False,
        frame: str = "",
        lines: bool = False,
        numbered: bool = True,
        older: Link | None = None,
        newer: Link | None = None,
        oldest: str | None = None,
        see_also: tuple[str, list[Link]] | None = None,
    ) -> Iterator[Page]:
        """The pages of a listing (``items`` newest first), numbered from the oldest post.

        ``directory`` ("" for the home timeline, else e.g. "konto/stadt/") shows the newest
        posts; the older pages are ``<directory>seite/<n>/``, page 1 holding the oldest posts,
        as index lines (``Listed.line``), ``LINES_PER_TEASER`` times ``posts_per_page`` to a
        page. Pages are cut from the oldest post on, so a new post changes the first page and
        at most two numbered pages; every other page of a long archive stays as it was, byte
        for byte.

        ``lines`` (the hashtags', months' and platforms' pages, which are for finding a post):
        the first page shows lines too, the newest full page of them and the posts after it.
        Else (the timeline, the accounts' pages) the first page shows the newest
        ``posts_per_page`` posts as teasers, and a numbered page leaves out those posts (a
        numbered page left empty by that is not made).

        Not ``numbered``: only the first page (the timeline, whose older posts are the months'
        pages). ``older`` and ``newer`` continue the listing beyond its own pages: ``older``
        from its oldest page, ``newer`` from its newest (a month's pages lead to the months
        before and after it); ``oldest``, for a listing without numbered pages, is the oldest
        page of that chain. ``see_also``: a text and links the first page shows under its
        intro (a platform's page names the accounts that list all its posts).
        """
        size = self.context.posts_per_page * LINES_PER_TEASER
        total = len(items)
        t = self.strings
        announced = (feeds or []) if announce else []
        shown, count = self.page_count(total, lines=lines, numbered=numbered)
        oldest_own = directory + page_url(1) if count else directory
        for number in [0, *range(count, 0, -1)]:
            if number == 0:
                chunk, url, heading = items[:shown], directory, title
                label = t["newest_posts"]
            else:
                end = total - (number - 1) * size
                chunk = items[max(shown, end - size) : end]
                url = directory + page_url(number)
                heading = f"{title}, {t['page']} {number}"
                first, last = chunk[-1].day, chunk[0].day
                label = (
                    t["page_day"].format(number=number, first=first)
                    if first == last
                    else t["page_range"].format(number=number, first=first, last=last)
                )
            # the neighbours: older is the page with the next older posts, newer the next newer
            if number == 0:
                newer_link = newer
            else:
                newer_href = directory + (page_url(number + 1) if number < count else "")
                newer_link = Link(newer_href, t["newer"])
            if number == 0 and count:
                older_link: Link | None = Link(directory + page_url(count), t["older"])
            elif number > 1:
                older_link = Link(directory + page_url(number - 1), t["older"])
            else:
                older_link = older
            pagination = None
            if newer_link or older_link:
                very_oldest = oldest_own if count else oldest
                pagination = {
                    "newer": newer_link,
                    "older": older_link,
                    "newest": directory if number and number < count else None,
                    "oldest": very_oldest
                    if very_oldest not in (url, older_link and older_link.href)
                    else None,
                    "label": label,
                }
            as_lines = lines or number > 0
            base = _base(url)
            body = self._render(
                "listing.html",
                heading=heading,
                intro=intro if number == 0 else "",
                teasers=[
                    Markup((item.line if as_lines else item.teaser).replace(BASE, base))  # noqa: S704 (our own rendered teasers)
                    for item in chunk
                ],
                lines=as_lines,
                no_posts=not chunk,
                pagination=pagination,
                feeds=feeds or [],
                first_page=number == 0,
                search_form=search_form and number == 0,
                browse=directory == "" and number == 0,
                see_also=see_also if number == 0 else None,
                base=base,
            )
            yield Page(
                url=url,
                title=heading,
                description=intro or title,
                body=body,
                feeds=tuple(announced),
                frame=frame if number == 0 else "",
            )

    def page_count(self, total: int, *, lines: bool, numbered: bool = True) -> tuple[int, int]:
        """How many of ``total`` posts a listing's first page shows, and how many numbered
        pages it has (:meth:`listing_pages`)."""
        size = self.context.posts_per_page * LINES_PER_TEASER
        if not numbered:  # one page: the newest posts, a page of lines or of teasers
            return min(total, size if lines else self.context.posts_per_page), 0
        if lines:
            full, rest = divmod(total, size)
            return (rest + size if full else rest), max(0, full - 1)
        shown = min(total, self.context.posts_per_page)
        count = -(-total // size)
        while count and total - (count - 1) * size <= shown:
            count -= 1  # its posts are all on the first page
        return shown, count

    def overview_page(
        self, url: str, *, title: str, intro: str, sections: list[dict[str, Any]]
    ) -> Page:
        """An overview: sections of {heading, link?, items: [{label, href, count, feeds?}]}."""
        body = self._render(
            "overview.html", heading=title, intro=intro, sections=sections, base=_base(url)
        )
        return Page(url=url, title=title, description=intro, body=body, frame=url + "index.md")

    def search_page(self, years: list[tuple[int, int]] | None = None) -> Page:
        """The search page; ``years`` are (year, posts) newest first, one search bundle each
        (``fetch.site.search``): the form offers the newest ``RECENT_YEARS`` by default,
        each year, and all years."""
        url = SEARCH_DIR + "/"
        base = _base(url)
        years = years or []
        t = self.strings
        names = [str(year) for year, _ in years]
        scopes: list[dict[str, str]] = []
        older = ""
        if len(years) > RECENT_YEARS:
            recent = names[:RECENT_YEARS]
            scopes.append(
                {
                    "value": "",
                    "label": t["search_scope_recent"].format(first=recent[-1], last=recent[0]),
                }
            )
            scopes.append(
                {
                    "value": "alle",
                    "label": t["search_scope_all"].format(first=names[-1], last=names[0]),
                }
            )
            scopes.extend(
                {"value": str(year), "label": f"{year} ({self.count(count)})"}
                for year, count in years
            )
            rest = names[RECENT_YEARS:]
            older = t["search_older"].format(first=rest[-1], last=rest[0])
        body = self._render(
            "search.html",
            heading=t["search_title"],
            strings={k: v for k, v in t.items() if k.startswith("search_")},
            years=names,
            recent=RECENT_YEARS,
            scopes=scopes,
            older=older,
            base=base,
        )
        return Page(
            url=url,
            title=t["search_title"],
            description=t["search_intro"],
            body=body,
            frame=url + "index.md",
        )


def post_hashtags(post: Post) -> list[str]:
    """A post's hashtags as shown in its text, then any the platform lists that the text lacks."""
    shown = hashtags_in(post.text_html)
    keys = {hashtag_key(t) for t in shown}
    return shown + [t for t in post.hashtags if hashtag_key(t) not in keys]


@dataclass
class SiteModel:
    """The posts prepared once for every page and feed: views newest first, threads."""

    renderer: Renderer
    views: list[PostView]
    threads: dict[str, list[str]]
    _by_id: dict[str, PostView] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {view.post.id: view for view in self.views}

    def view_of(self, post_id: str) -> PostView:
        return self._by_id[post_id]


def prepare(posts: Iterable[Post], context: SiteContext) -> SiteModel:
    renderer = Renderer(context)
    ordered = sorted(posts, key=lambda p: (p.published, p.id), reverse=True)
    renderer.tag_names = tag_names(post_hashtags(post) for post in ordered)
    urls = {post.id: post_url(post) for post in ordered}
    views = {post.id: renderer.view(post, urls) for post in ordered}
    threads = thread_map([(p.id, p.reply_to, p.published) for p in ordered])
    for post_id, members in threads.items():
        if len(members) > 1:
            views[post_id] = _with_thread(views[post_id], members.index(post_id) + 1, len(members))
    return SiteModel(renderer=renderer, views=[views[p.id] for p in ordered], threads=threads)


def thread_map(posts: list[tuple[str, str | None, str]]) -> dict[str, list[str]]:
    """Every post's self-thread, oldest first, from (id, reply_to, published) of every post.

    A post whose parent is not published is the root of its own thread."""
    known = {post_id: (reply_to, published) for post_id, reply_to, published in posts}
    children: dict[str, list[str]] = defaultdict(list)
    for post_id, reply_to, _published in sorted(posts, key=lambda p: (p[2], p[0])):
        if reply_to and reply_to in known:
            children[reply_to].append(post_id)
    threads: dict[str, list[str]] = {}
    for post_id in known:
        if post_id in threads:
            continue
        root, seen = post_id, {post_id}
        while True:
            parent = known[root][0]
            if not parent or parent not in known or parent in seen:
                break
            root = parent
            seen.add(root)
        if not children.get(root):
            threads[post_id] = [post_id]
            continue
        members: list[str] = []
        stack = [root]
        while stack:
            current = stack.pop()
            if current in members:
                continue
            members.append(current)
            stack.extend(children.get(current, []))
        members.sort(key=lambda i: (known[i][1], i))
        for member in members:
            threads[member] = members
    return threads


def render_site(posts: Iterable[Post], context: SiteContext) -> dict[str, str]:
    """Every generated page as Markdown with front matter, {"<url>index.md": text}: the form
    another generator would read, and the handiest one to inspect."""
    return {
        page.url + "index.md": page.markdown() for page in render_pages(prepare(posts, context))
    }


def render_pages(model: SiteModel) -> list[Page]:
    """Every generated page: the post pages, then the listings and overviews."""
    renderer = model.renderer
    pages = []
    for view in model.views:
        thread = [model.view_of(i) for i in model.threads[view.post.id]]
        pages.append(renderer.post_page(view, thread))
    listed = [renderer.teaser(view) for view in model.views]
    pages.extend(listing_pages(renderer, listed))
    return pages


def listing_pages(renderer: Renderer, listed: list[Listed]) -> Iterator[Page]:
    """The timeline, the listings of every account, platform, hashtag and month, and the
    overviews, from the posts' teasers (newest first). ``renderer.tag_names`` names the tags."""
    context = renderer.context
    t = renderer.strings
    site = context.site_title
    all_views = listed
    by_month: dict[tuple[int, int], list[Listed]] = defaultdict(list)
    for view in all_views:
        by_month[view.month].append(view)
    months = sorted(by_month, reverse=True)

    def oldest_page(month: tuple[int, int]) -> str:
        """A month's oldest page: its page 1, or its only page."""
        count = renderer.page_count(len(by_month[month]), lines=True)[1]
        return month_url(*month) + (page_url(1) if count else "")

    def month_link(month: tuple[int, int], text: str, *, oldest: bool) -> Link:
        """A link to a month's oldest page, or to its newest."""
        href = oldest_page(month) if oldest else month_url(*month)
        return Link(href, text.format(month=renderer.month_name(*month)))

    # The timeline is its first page; the older posts are the months' pages, which lead from
    # one month to the next (the month of the first post not shown here comes first).
    shown = renderer.page_count(len(all_views), lines=False, numbered=False)[0]
    more = all_views[shown : shown + 1]
    yield from (
        renderer.listing_pages(
            all_views,
            directory="",
            title=t["timeline"],
            intro=t["timeline_intro"],
            feeds=feed_links(None, t["feed_all_title"].format(site=site), t),
            announce=False,  # the site-wide feeds: the build announces them on every listing
            search_form=True,
            frame="index.md",
            numbered=False,
            older=month_link(more[0].month, t["older_month"], oldest=False) if more else None,
            oldest=oldest_page(months[-1]) if more else None,
        )
    )

    # accounts and platforms
    by_account: dict[str, list[Listed]] = {key: [] for key in context.account_names}
    by_platform: dict[str, list[Listed]] = {}
    for platform in context.account_platforms.values():
        by_platform.setdefault(platform, [])
    for view in all_views:
        by_account.setdefault(view.account, []).append(view)
        by_platform.setdefault(view.platform, []).append(view)
    platform_of = dict(context.account_platforms)
    for view in all_views:
        platform_of.setdefault(view.account, view.platform)
    for key, items in by_account.items():
        name = context.account_names.get(key, key)
        label = platform_label(platform_of.get(key, ""))
        yield from (
            renderer.listing_pages(
                items,
                directory=account_url(key),
                title=name,
                intro=t["account_intro"].format(name=name, platform=label),
                feeds=feed_links(key, t["feed_account_title"].format(site=site, name=name), t),
            )
        )
    # A platform's page lists its newest posts; all of them are on its accounts' pages (listing
    # them all here too would cost 0.3 KB of HTML per post).
    for platform, items in by_platform.items():
        label = platform_label(platform)
        accounts = sorted(
            (context.account_names.get(key, key), key)
            for key, of in platform_of.items()
            if of == platform
        )
        yield from (
            renderer.listing_pages(
                items,
                directory=platform_url(platform),
                title=t["platform_title"].format(platform=label),
                intro=t["platform_intro"].format(platform=label),
                lines=True,
                numbered=False,
                see_also=(
                    t["platform_accounts" if len(accounts) > 1 else "platform_account"].format(
                        platform=label
                    ),
                    [Link(account_url(key), name) for name, key in accounts],
                ),
            )
        )
    account_sections = []
    for platform in sorted(by_platform, key=platform_label):
        label = platform_label(platform)
        account_sections.append(
            {
                "heading": label,
                "link": {
                    "label": t["all_on_platform"].format(platform=label),
                    "href": platform_url(platform),
                },
                "items": [
                    {
                        "label": context.account_names.get(key, key),
                        "href": account_url(key),
                        "count": renderer.count(len(by_account.get(key, []))),
                        "feeds": feed_links(key, "", t),
                    }
                    for key in sorted(by_account, key=lambda k: context.account_names.get(k, k))
                    if platform_of.get(key) == platform
                ],
            }
        )
    yield renderer.overview_page(
        ACCOUNTS_DIR + "/",
        title=t["accounts"],
        intro=t["accounts_intro"],
        sections=account_sections,
    )

    # hashtags
    by_tag: dict[str, list[Listed]] = defaultdict(list)
    for view in all_views:
        for tag_slug in view.tag_slugs:
            by_tag[tag_slug].append(view)
    for tag_slug, items in by_tag.items():
        tag = renderer.tag_names[tag_slug]
        yield from (
            renderer.listing_pages(
                items,
                directory=hashtag_url(tag_slug),
                title=t["hashtag_title"].format(tag=tag),
                intro=t["hashtag_intro"].format(tag=tag),
                lines=True,
            )
        )
    yield from (
        [
            renderer.overview_page(
                HASHTAGS_DIR + "/",
                title=t["hashtags"],
                intro=t["hashtags_intro"],
                sections=[
                    {
                        "heading": "",
                        "items": [
                            {
                                "label": "#" + renderer.tag_names[s],
                                "href": hashtag_url(s),
                                "count": renderer.count(len(by_tag[s])),
                            }
                            for s in sorted(by_tag, key=lambda s: renderer.tag_names[s].casefold())
                        ],
                    }
                ],
            )
        ]
    )

    # months, each leading to the months before and after it
    for index, (year, month) in enumerate(months):
        name = renderer.month_name(year, month)
        yield from (
            renderer.listing_pages(
                by_month[(year, month)],
                directory=month_url(year, month),
                title=name,
                intro=t["month_intro"].format(month=name),
                lines=True,
                newer=month_link(months[index - 1], t["newer_month"], oldest=True)
                if index
                else None,
                older=month_link(months[index + 1], t["older_month"], oldest=False)
                if index + 1 < len(months)
                else None,
            )
        )
    years: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for year, month in sorted(by_month, reverse=True):
        years[year].append((year, month))
    yield from (
        [
            renderer.overview_page(
                ARCHIVE_DIR + "/",
                title=t["archive"],
                intro=t["archive_intro"],
                sections=[
                    {
                        "heading": str(year),
                        "items": [
                            {
                                "label": renderer.month_name(*m),
                                "href": month_url(*m),
                                "count": renderer.count(len(by_month[m])),
                            }
                            for m in months
                        ],
                    }
                    for year, months in years.items()
                ],
            ),
            renderer.search_page(
                [(year, sum(len(by_month[m]) for m in months)) for year, months in years.items()]
            ),
        ]
    )


def tag_names(tags_per_post: Iterable[list[str]]) -> dict[str, str]:
    """slug -> the spelling most posts use (ties: the newest post's), from each post's
    ``post_hashtags``, newest post first."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for tags in tags_per_post:
        for tag in tags:
            spellings[hashtag_slug(tag)][tag] += 1
    return {s: counts.most_common(1)[0][0] for s, counts in spellings.items()}


def _with_thread(view: PostView, index: int, size: int) -> PostView:
    return replace(view, thread_index=index, thread_size=size)


def platform_label(platform: str) -> str:
    source = registry.get(platform)
    return source.label if source else platform


def _base(url: str) -> str:
    """The relative prefix from a page at ``url`` back to the site root."""
    depth = url.count("/")
    return "../" * depth


# The theme writes a page's title and description into the HTML without escaping them (in
# <title>, the header and <meta content="...">): the characters that could end an element or
# an attribute there are replaced by look-alikes. They come from post text, which is plain
# text at this point, so nothing is lost but the exact glyph.
_META_UNSAFE = str.maketrans({"<": "‹", ">": "›", '"': "”"})


def meta_text(value: Any) -> Any:
    """``value`` with every string in it made safe for the theme's unescaped metadata."""
    if isinstance(value, str):
        return value.translate(_META_UNSAFE)
    if isinstance(value, list | tuple):
        return [meta_text(item) for item in value]
    if isinstance(value, dict):
        return {key: meta_text(item) for key, item in value.items()}
    return value


def yaml_value(value: Any) -> Markup:
    """A value for the YAML front matter: JSON (a subset of YAML), its strings safe for the
    theme's unescaped metadata (``meta_text``).

    Jinja's ``tojson`` escapes for HTML and writes emoji as UTF-16 surrogate pairs, which
    YAML rejects; then mkdocs would show the front matter as text.
    """
    text = json.dumps(meta_text(value), ensure_ascii=False)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))  # noqa: S704 (front matter, not HTML)


def _format(template: str, **values: Any) -> str:
    return template.format(**values)


def _title(post: Post, account_name: str, date: str, warning_label: str) -> str:
    """The page title; a post behind a content warning is named by its warning, so the title
    (shown in tabs, history and search results) does not give away what the reader chose not
    to open yet."""
    if post.content_warning:
        return f"{warning_label}: {' '.join(post.content_warning.split())}"
    text = post.title or html_to_text(post.text_html)
    text = " ".join(text.split())
    if len(text) > 70:
        text = text[:69].rsplit(" ", 1)[0] + "…"
    return text or f"{account_name}, {date}"


def _description(post: Post, warning_label: str) -> str:
    if post.content_warning:
        return f"{warning_label}: {' '.join(post.content_warning.split())}"
    text = " ".join(html_to_text(post.text_html).split())
    return text[:157] + "…" if len(text) > 160 else text


def _tidy(text: str) -> str:
    """No blank lines inside the HTML blocks, so Markdown passes them through untouched."""
    head, sep, body = text.partition("\n---\n")
    body = re.sub(r"\n\s*\n+", "\n", body.strip("\n"))
    return f"{head}{sep}\n{body}\n"
