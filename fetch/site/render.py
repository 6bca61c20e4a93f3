"""Turn archived posts into the Markdown pages mkdocs builds: pure, no I/O.

Posts are written as Markdown files that hold one HTML block each, made by our own Jinja2
templates (``templates/``). The theme only frames them: nothing here depends on
mkdocs-material's internals, so the same generated pages build with another mkdocs-compatible
generator (Zensical reads the same ``docs_dir``).

Post pages live at ``beitrag/<account>/<slug>/``, a stable permalink that does not change when
the post is edited. Timeline pages are ``index.md`` (newest) and ``seite/<n>/``. Posts are never
put into the mkdocs nav: with thousands of entries that makes the build quadratic.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from ..archive import slug
from ..clean.html import html_to_text
from ..model import Post
from ..sources import registry
from ..times import format_date_de, format_date_en
from .i18n import STRINGS

TEMPLATES = Path(__file__).parent / "templates"
POSTS_DIR = "beitrag"
PAGES_DIR = "seite"


@dataclass(frozen=True)
class SiteContext:
    """What the renderer needs to know about the city and its accounts."""

    language: str
    timezone: str
    account_names: dict[str, str]
    posts_per_page: int = 20


@dataclass(frozen=True)
class PostView:
    """A post with everything a template needs precomputed (dates, URLs, labels)."""

    post: Post
    url: str  # relative to the site root, with trailing slash
    anchor: str
    account_name: str
    platform_label: str
    date: str
    edited_date: str
    reply_to_url: str | None
    card_host: str
    poll_options: tuple[dict[str, Any], ...]


def post_url(post: Post) -> str:
    return f"{POSTS_DIR}/{post.account}/{slug(post.native_id)}/"


def page_url(number: int) -> str:
    return "" if number == 1 else f"{PAGES_DIR}/{number}/"


class Renderer:
    def __init__(self, context: SiteContext) -> None:
        self.context = context
        self.strings = STRINGS[context.language]
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            trim_blocks=False,
            lstrip_blocks=False,
            undefined=jinja2.StrictUndefined,
        )
        self._post = self.env.get_template("post_page.md")
        self._listing = self.env.get_template("listing.md")

    # -- views ---------------------------------------------------------------------------------
    def view(self, post: Post, urls: dict[str, str]) -> PostView:
        date = self._date(post.published)
        options: list[dict[str, Any]] = []
        if post.poll:
            total = sum(o.votes or 0 for o in post.poll.options)
            for option in post.poll.options:
                share = round(100 * (option.votes or 0) / total) if total else 0
                options.append({"title": option.title, "votes": option.votes, "percent": share})
        source = registry.get(post.platform)
        return PostView(
            post=post,
            url=urls[post.id],
            anchor="p-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{post.account}-{slug(post.native_id)}"),
            account_name=self.context.account_names.get(post.account, post.account),
            platform_label=source.label if source else post.platform,
            date=date,
            edited_date=self._date(post.edited) if post.edited else "",
            reply_to_url=urls.get(post.reply_to) if post.reply_to else None,
            card_host=_host(post.card.url) if post.card else "",
            poll_options=tuple(options),
        )

    def _date(self, value: str) -> str:
        formatter = format_date_de if self.context.language == "de" else format_date_en
        return formatter(value, self.context.timezone)

    # -- pages ---------------------------------------------------------------------------------
    def post_page(self, view: PostView, thread: list[PostView]) -> str:
        t = self.strings
        heading = f"{t['post_by']} {view.account_name} {t['from']} {self._date_only(view.post)}"
        return _tidy(
            self._post.render(
                title=_title(view),
                description=_description(view.post),
                heading=heading,
                thread=thread or [view],
                current_id=view.post.id,
                base=_base(view.url),
                t=t,
            )
        )

    def listing_pages(
        self, posts: list[PostView], *, directory: str, title: str, intro: str = ""
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
            content = self._listing.render(
                title=heading,
                description=intro or title,
                heading=heading,
                intro=intro if number == 1 else "",
                posts=chunk,
                page=number,
                pages=pages,
                prev_url=directory + page_url(number - 1) if number > 1 else None,
                next_url=directory + page_url(number + 1) if number < pages else None,
                base=_base(url),
                t=self.strings,
            )
            yield url + "index.md", _tidy(content)

    def _date_only(self, post: Post) -> str:
        formatter = format_date_de if self.context.language == "de" else format_date_en
        return formatter(post.published, self.context.timezone, with_time=False)


def render_site(posts: Iterable[Post], context: SiteContext) -> dict[str, str]:
    """Every generated page, as {relative path of the .md file: Markdown text}."""
    renderer = Renderer(context)
    ordered = sorted(posts, key=lambda p: (p.published, p.id), reverse=True)
    urls = {post.id: post_url(post) for post in ordered}
    views = {post.id: renderer.view(post, urls) for post in ordered}
    children: dict[str, list[str]] = defaultdict(list)
    for post in ordered:
        if post.reply_to and post.reply_to in views:
            children[post.reply_to].append(post.id)
    files: dict[str, str] = {}
    for post in ordered:
        view = views[post.id]
        thread = [views[i] for i in _thread_of(post, views, children)]
        files[view.url + "index.md"] = renderer.post_page(view, thread)
    all_views = [views[p.id] for p in ordered]
    for path, content in renderer.listing_pages(
        all_views,
        directory="",
        title=renderer.strings["timeline"],
        intro=renderer.strings["timeline_intro"],
    ):
        files[path] = content
    return files


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
        members.append(current)
        stack.extend(children.get(current, []))
    return sorted(members, key=lambda i: (views[i].post.published, i))


def _base(url: str) -> str:
    """The relative prefix from a page at ``url`` back to the site root."""
    depth = url.count("/")
    return "../" * depth


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _title(view: PostView) -> str:
    text = view.post.title or html_to_text(view.post.text_html)
    text = " ".join(text.split())
    if len(text) > 70:
        text = text[:69].rsplit(" ", 1)[0] + "…"
    return text or f"{view.account_name}, {view.date}"


def _description(post: Post) -> str:
    text = " ".join(html_to_text(post.text_html).split())
    return text[:157] + "…" if len(text) > 160 else text


def _tidy(text: str) -> str:
    """No blank lines inside the HTML blocks, so Markdown passes them through untouched."""
    head, sep, body = text.partition("\n---\n")
    body = re.sub(r"\n\s*\n+", "\n", body.strip("\n"))
    return f"{head}{sep}\n{body}\n"
