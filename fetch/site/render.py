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
from collections.abc import Iterable, Iterator
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
    return "" if number == 1 else f"{PAGES_DIR}/{number}/"


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


class Renderer:
    """Renders views into pages with the templates; ``text`` rewrites post HTML per page depth
    (cached, since a post appears on its own page and in several listings)."""

    def __init__(self, context: SiteContext) -> None:
        self.context = context
        self.strings = STRINGS[context.language]
        self.months = MONTHS[context.language]
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
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
        self.tag_names: dict[str, str] = {}  # slug -> shown spelling
        self._text_cache: dict[tuple[str, str], Markup] = {}
        self._templates = {
            name: self.env.get_template(name)
            for name in ("post_page.md", "listing.md", "overview.md", "search.md")
        }

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

    def text(self, html: str, base: str, heading: int = 2) -> Markup:
        """Post HTML for a page at ``base``: hashtags to our pages, host labels on links, its
        headings starting at ``h<heading>``."""
        key = (html, f"{heading}{base}")
        cached = self._text_cache.get(key)
        if cached is None:

            def tag_url(tag: str) -> str | None:
                tag_slug = hashtag_slug(tag)
                if tag_slug not in self.tag_names:
                    return None  # a quoted post's tag the archive has no page for
                return base + hashtag_url(tag_slug)

            cached = Markup(shift_headings(rewrite_links(html, tag_url), heading))  # noqa: S704 (sanitized at archive time)
            if len(self._text_cache) > 50_000:
                self._text_cache.clear()
            self._text_cache[key] = cached
        return cached

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
    def post_page(self, view: PostView, thread: list[PostView]) -> str:
        t = self.strings
        heading = view.post.title or (
            f"{t['post_by']} {view.account_name} {t['from']} {self._date_only(view.post.published)}"
        )
        return self._render(
            "post_page.md",
            title=view.title,
            description=_description(view.post, self.strings["content_warning"]),
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

    def listing_pages(
        self,
        posts: list[PostView],
        *,
        directory: str,
        title: str,
        intro: str = "",
        feeds: list[dict[str, str]] | None = None,
        announce: bool = True,
        search_form: bool = False,
    ) -> Iterator[tuple[str, str]]:
        """(path of the .md file, content) for each page of a paginated listing.

        ``directory`` is "" for the home timeline, else e.g. "konto/stadt/".
        """
        size = self.context.posts_per_page
        pages = max(1, -(-len(posts) // size))
        for number in range(1, pages + 1):
            url = directory + page_url(number)
            chunk = posts[(number - 1) * size : number * size]
            heading = title if number == 1 else f"{title}, {self.strings['page']} {number}"
            yield (
                url + "index.md",
                self._render(
                    "listing.md",
                    title=heading,
                    description=intro or title,
                    heading=heading,
                    intro=intro if number == 1 else "",
                    posts=chunk,
                    page=number,
                    pages=pages,
                    first_url=directory + page_url(1),
                    last_url=directory + page_url(pages),
                    prev_url=directory + page_url(number - 1) if number > 1 else None,
                    next_url=directory + page_url(number + 1) if number < pages else None,
                    feeds=feeds or [],
                    announced=(feeds or []) if announce else [],
                    search_form=search_form,
                    browse=directory == "" and number == 1,
                    base=_base(url),
                ),
            )

    def overview_page(
        self, url: str, *, title: str, intro: str, sections: list[dict[str, Any]]
    ) -> tuple[str, str]:
        """An overview: sections of {heading, link?, items: [{label, href, count, feeds?}]}."""
        return url + "index.md", self._render(
            "overview.md",
            title=title,
            description=intro,
            heading=title,
            intro=intro,
            sections=sections,
            base=_base(url),
        )

    def search_page(self) -> tuple[str, str]:
        url = SEARCH_DIR + "/"
        return url + "index.md", self._render(
            "search.md",
            title=self.strings["search_title"],
            description=self.strings["search_intro"],
            heading=self.strings["search_title"],
            strings={k: v for k, v in self.strings.items() if k.startswith("search_")},
            base=_base(url),
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
    renderer.tag_names = _tag_names(ordered)
    urls = {post.id: post_url(post) for post in ordered}
    views = {post.id: renderer.view(post, urls) for post in ordered}
    children: dict[str, list[str]] = defaultdict(list)
    for post in reversed(ordered):
        if post.reply_to and post.reply_to in views:
            children[post.reply_to].append(post.id)
    threads: dict[str, list[str]] = {}
    for post in ordered:
        if post.id not in threads:
            members = _thread_of(post, views, children)
            for member in members:
                threads[member] = members
    for post_id, members in threads.items():
        if len(members) > 1:
            views[post_id] = _with_thread(views[post_id], members.index(post_id) + 1, len(members))
    return SiteModel(renderer=renderer, views=[views[p.id] for p in ordered], threads=threads)


def render_site(posts: Iterable[Post], context: SiteContext) -> dict[str, str]:
    """Every generated page, as {relative path of the .md file: Markdown text}."""
    return render_pages(prepare(posts, context))


def render_pages(model: SiteModel) -> dict[str, str]:
    renderer = model.renderer
    context = renderer.context
    t = renderer.strings
    files: dict[str, str] = {}
    for view in model.views:
        thread = [model.view_of(i) for i in model.threads[view.post.id]]
        files[view.url + "index.md"] = renderer.post_page(view, thread)

    all_views = model.views
    site = context.site_title

    def add(pages: Iterable[tuple[str, str]]) -> None:
        for path, content in pages:
            files[path] = content

    add(
        renderer.listing_pages(
            all_views,
            directory="",
            title=t["timeline"],
            intro=t["timeline_intro"],
            feeds=feed_links(None, t["feed_all_title"].format(site=site), t),
            announce=False,  # the site-wide feeds are announced on every page by the theme
            search_form=True,
        )
    )

    # accounts and platforms
    by_account: dict[str, list[PostView]] = {key: [] for key in context.account_names}
    by_platform: dict[str, list[PostView]] = {}
    for platform in context.account_platforms.values():
        by_platform.setdefault(platform, [])
    for view in all_views:
        by_account.setdefault(view.post.account, []).append(view)
        by_platform.setdefault(view.post.platform, []).append(view)
    platform_of = dict(context.account_platforms)
    for view in all_views:
        platform_of.setdefault(view.post.account, view.post.platform)
    for key, items in by_account.items():
        name = context.account_names.get(key, key)
        label = platform_label(platform_of.get(key, ""))
        add(
            renderer.listing_pages(
                items,
                directory=account_url(key),
                title=name,
                intro=t["account_intro"].format(name=name, platform=label),
                feeds=feed_links(key, t["feed_account_title"].format(site=site, name=name), t),
            )
        )
    for platform, items in by_platform.items():
        label = platform_label(platform)
        add(
            renderer.listing_pages(
                items,
                directory=platform_url(platform),
                title=t["platform_title"].format(platform=label),
                intro=t["platform_intro"].format(platform=label),
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
                    "count": renderer.count(len(by_platform[platform])),
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
    files.update(
        [
            renderer.overview_page(
                ACCOUNTS_DIR + "/",
                title=t["accounts"],
                intro=t["accounts_intro"],
                sections=account_sections,
            )
        ]
    )

    # hashtags
    by_tag: dict[str, list[PostView]] = defaultdict(list)
    for view in all_views:
        for tag_slug in view.tag_slugs:
            by_tag[tag_slug].append(view)
    for tag_slug, items in by_tag.items():
        tag = renderer.tag_names[tag_slug]
        add(
            renderer.listing_pages(
                items,
                directory=hashtag_url(tag_slug),
                title=t["hashtag_title"].format(tag=tag),
                intro=t["hashtag_intro"].format(tag=tag),
            )
        )
    files.update(
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

    # months
    by_month: dict[tuple[int, int], list[PostView]] = defaultdict(list)
    for view in all_views:
        by_month[view.month].append(view)
    for (year, month), items in by_month.items():
        name = renderer.month_name(year, month)
        add(
            renderer.listing_pages(
                items,
                directory=month_url(year, month),
                title=name,
                intro=t["month_intro"].format(month=name),
            )
        )
    years: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for year, month in sorted(by_month, reverse=True):
        years[year].append((year, month))
    files.update(
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
            renderer.search_page(),
        ]
    )
    return files


def _tag_names(posts: list[Post]) -> dict[str, str]:
    """slug -> the spelling most posts use (ties: the newest post's)."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for post in posts:
        for tag in post_hashtags(post):
            spellings[hashtag_slug(tag)][tag] += 1
    return {s: counts.most_common(1)[0][0] for s, counts in spellings.items()}


def _with_thread(view: PostView, index: int, size: int) -> PostView:
    return replace(view, thread_index=index, thread_size=size)


def platform_label(platform: str) -> str:
    source = registry.get(platform)
    return source.label if source else platform


def _thread_of(post: Post, views: dict[str, PostView], children: dict[str, list[str]]) -> list[str]:
    """The ids of the whole self-thread a post belongs to, oldest first."""
    root = post
    seen = {root.id}
    while root.reply_to and root.reply_to in views and root.reply_to not in seen:
        root = views[root.reply_to].post
        seen.add(root.id)
    if not children.get(root.id):
        return [post.id]
    members: list[str] = []
    stack = [root.id]
    while stack:
        current = stack.pop()
        if current in members:
            continue
        members.append(current)
        stack.extend(children.get(current, []))
    return sorted(members, key=lambda i: (views[i].post.published, i))


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
