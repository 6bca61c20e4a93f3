"""Build the static site from the archive, offline, doing only the work the change needs.

1. **Posts.** Stat every post file of the archive; read only those that are new or changed
   since the last build (``fetch.site.catalog``), leaving out the city's takedowns.
2. **Frames.** Once per combination of our code, the config and the project's ``mkdocs.yml``,
   ``docs/`` and ``overrides/``: copy ``docs/`` into ``build/docs``, fill the legal pages from
   ``legal:``, add placeholder pages and run ``mkdocs build`` into ``build/theme-site``. Its
   static pages and assets go into the site; the placeholders become the frames every
   generated page is set into (``fetch.site.shell``).
3. **Pages.** The pages of new and changed posts and of their threads are rendered; the
   listings are put together from stored teasers (``fetch.site.render``); the status page is
   made every time. A page is written only when its content changed; a page whose post is gone
   (a takedown, a deletion) is removed.
4. **Media.** Hard-link (or copy) the media the published posts use from the archive into
   ``site/media``, dropping the ones no post uses any more.
5. **Feeds** (``fetch.site.feeds``), **search** (``fetch.site.search``, pagefind, one bundle
   per year, indexed again only for the years whose post pages changed) and the **alt-text
   report** for the city's team (``build/reports``).
6. **Privacy.** The frames carry the Content-Security-Policy; every file this run wrote is
   scanned (the whole site on a full build), and a finding fails the build.

With nothing new a run reads no post and writes only the status page; with a few new posts it
writes their pages, the listings' newest pages and the feeds. The catalog lives in
``build/state/``; without it (or with ``--full``) the site is built from scratch.
Nothing here touches the network.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import html
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .. import lifecycle
from ..archive import Archive
from ..config import Config
from ..errors import AushangError
from ..model import Post
from ..times import local
from .catalog import CATALOG_FILE, Catalog, Entry, media_of, scan_posts
from .feeds import FEED_SIZE, announced_feeds, render_feeds
from .hosting import site_size, size_warning
from .i18n import STRINGS
from .privacy import PARALLEL_FROM_FILES, BuildScan, check_report
from .render import (
    POSTS_DIR,
    Page,
    PostView,
    Renderer,
    SiteContext,
    SiteModel,
    listing_pages,
    post_hashtags,
    post_url,
    tag_names,
    thread_map,
)
from .reports import AltTextGap, AltTextReport, write_alt_text_report
from .search import SearchIndexReport, build_search_indexes
from .shell import (
    NAV_PAGE_META,
    Frame,
    add_placeholders,
    copy_if_changed,
    cut_frames,
    depth_key,
    fill_frame,
    frame_inputs_hash,
    frames_from_json,
    frames_to_json,
    md_url,
    static_files,
    write_file,
    write_if_changed,
)
from .status import status_pages
from .text import hashtag_slug

log = logging.getLogger("aushang.build")


class BuildError(AushangError):
    pass


@dataclass
class BuildReport:
    posts: int
    pages: int
    media_files: int
    seconds: float
    site_dir: Path
    feeds: int = 0
    search: SearchIndexReport | None = None
    alt_text: AltTextReport | None = None
    written: int = 0
    removed: int = 0
    full: bool = True
    # anything besides the status page (which shows the time of the run) written or removed:
    # the hourly workflow publishes the site only then, or when the status page is due
    changed: bool = True
    # seconds per step of the build, in order (logged; `make bench` and leistung.md use them)
    stages: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the build output, with where the alt-text report is."""
        kind = "full build" if self.full else "update"
        line = (
            f"built {self.posts} posts ({kind}): {self.pages} pages made, {self.written} files "
            f"written, {self.removed} removed, {self.media_files} media files, {self.feeds} "
            f"feeds in {self.seconds:.1f} s -> {self.site_dir}"
        )
        if self.search is not None:
            years = ", ".join(self.search.years)
            line += f"; search index: {self.search.pages} pages ({years})"
        if self.alt_text is not None:
            if self.alt_text.images:
                line += (
                    f"; {self.alt_text.images} images in {self.alt_text.posts} posts lack a "
                    f"description, see {self.alt_text.path}"
                )
            else:
                line += f"; every image has a description ({self.alt_text.path})"
        return line


# Pages under docs/about/ the city turns on in ``legal:``; without the key they are left out.
OPTIONAL_PAGES = {
    "leichte_sprache": "about/leichte-sprache.md",
    "gebaerdensprache": "about/gebaerdensprache.md",
}
# The pages of docs/ that are Jinja templates filled from the config (other pages may show
# template syntax as examples, so they are left alone).
TEMPLATE_PAGES = ("about/*.md", "technik/abonnieren.md")


def project_root(config: Config) -> Path:
    """The folder holding mkdocs.yml, docs/ and overrides/: the config file's folder."""
    return config.path.resolve().parent


def is_taken_down(post: Post, takedown: tuple[str, ...]) -> bool:
    return lifecycle.is_taken_down(post, takedown)  # id, native id or URL (tracking-insensitive)


def site_context(config: Config) -> SiteContext:
    """What the templates need of the config."""
    return SiteContext(
        language=config.site.language,
        timezone=config.site.timezone,
        account_names={a.key: a.name for a in config.accounts},
        posts_per_page=config.site.posts_per_page,
        account_platforms={a.key: a.platform for a in config.accounts},
        site_title=config.site.title,
        media_url=config.site.media_url,
    )


def load_posts(config: Config) -> list[Post]:
    archive = Archive(config.archive_dir)
    return [p for p in archive.iter_posts() if not is_taken_down(p, config.takedown)]


def build_site(
    config: Config, *, strict: bool = True, allow_drop: bool = False, full: bool = False
) -> BuildReport:
    """Build the site, or bring the site from the last build up to date (see the module doc).

    ``full`` forgets the last build: every page is made and the whole site scanned again.
    """
    privacy = BuildScan(
        config.site_dir, site_url=config.site.url or None, media_url=config.site.media_url or None
    )
    try:
        return _build_site(config, privacy, allow_drop=allow_drop, full=full)
    finally:
        privacy.close()


def _build_site(config: Config, privacy: BuildScan, *, allow_drop: bool, full: bool) -> BuildReport:
    started = time.monotonic()
    stages: dict[str, float] = {}
    mark = [started]

    def stage(name: str) -> None:
        now = time.monotonic()
        stages[name] = stages.get(name, 0.0) + now - mark[0]
        mark[0] = now

    root = project_root(config)
    build_dir = root / "build"
    site_dir = config.site_dir
    archive_media = config.archive_dir / "media"
    key = build_key(config, root)
    catalog_path = build_dir / "state" / CATALOG_FILE
    catalog = Catalog(key=key) if full else Catalog.load(catalog_path, key)
    fresh = not catalog.frames or not (site_dir / "index.html").is_file()
    if fresh:
        catalog = Catalog(key=key)
        if site_dir.exists():
            shutil.rmtree(site_dir)
    renderer = Renderer(site_context(config))
    site_feeds = announced_feeds(config.site.title, renderer.strings)
    # 1. posts: read the post files that changed since the last build
    archive = Archive(config.archive_dir)
    posts_dir = config.archive_dir / "posts"
    scan = scan_posts(posts_dir, catalog.files)
    if (scan.changed or scan.removed) and not catalog.load_entries():
        # entries lost or not of this catalog (a run stopped while saving): start afresh
        log.warning("build: the catalog's entries are missing or stale; building afresh")
        catalog, fresh = Catalog(key=key), True
        if site_dir.exists():
            shutil.rmtree(site_dir)
        scan = scan_posts(posts_dir, catalog.files)
    if len(scan.changed) >= PARALLEL_FROM_FILES:
        # many pages to make: their privacy scan runs alongside, in workers forked now, while
        # this process is small (the parsed objects so far are frozen: never copied by the gc)
        gc.freeze()
        privacy.start()
        gc.unfreeze()
    posts_changed = fresh or bool(scan.changed or scan.removed)
    if posts_changed:  # the listings are made again from the stored teasers
        catalog.load_teasers()
    entries = dict(catalog.entries)
    by_file = {entry.file: entry.id for entry in entries.values()}
    loaded: dict[str, Post] = {}
    changed: set[str] = set()
    for name in [*scan.removed, *scan.changed]:
        if name in by_file:
            entries.pop(by_file[name], None)
    for name, data in scan.changed.items():
        post = archive.parse_post(data, posts_dir / name)
        if is_taken_down(post, config.takedown):
            continue
        scan.files[name].post_id = post.id
        entries[post.id] = new_entry(post, name, renderer)
        changed.add(post.id)
        if len(scan.changed) <= KEEP_PARSED:
            loaded[post.id] = post  # parsed again below otherwise: memory over time
    published = None
    if posts_changed:
        # Refused before anything is written when far fewer posts would be published.
        published = lifecycle.check_publish_drop(
            config.archive_dir,
            list(entries.values()),
            max_drop_percent=config.max_drop_percent,
            allow_drop=allow_drop,
        )
    ordered = sorted(entries.values(), key=lambda e: (e.published, e.id), reverse=True)
    stage("read posts")
    threads = thread_map([(e.id, e.reply_to, e.published) for e in ordered])
    renderer.tag_names = tag_names(entry.tags for entry in ordered)

    def post_of(entry: Entry) -> Post:
        if entry.id not in loaded:
            loaded[entry.id] = archive.parse_post(
                (posts_dir / entry.file).read_bytes(), posts_dir / entry.file
            )
        return loaded[entry.id]

    views: dict[str, PostView] = {}

    def view_of(entry: Entry) -> PostView:
        if entry.id not in views:
            post = post_of(entry)
            urls = {post.id: entry.url}
            if entry.env[2]:
                urls[str(entry.reply_to)] = entry.env[2]
            view = renderer.view(post, urls)
            if entry.env[1]:
                view = replace(view, thread_index=entry.env[0], thread_size=entry.env[1])
            views[entry.id] = view
        return views[entry.id]

    # 2. the frames: mkdocs on the static pages and the placeholders, once per key
    written: list[Path] = []
    manifest = dict(catalog.manifest)
    new_manifest: dict[str, str] = {}
    if not catalog.frames:
        frames, placeholders = build_frames(config, root, build_dir)
        catalog.frames = frames_to_json(frames)
        theme_site = build_dir / THEME_SITE
        for relative in static_files(theme_site, placeholders):
            target = site_dir / relative
            if copy_if_changed(theme_site / relative, target, config.site.media_url):
                written.append(target)
            new_manifest[relative] = STATIC
    else:
        frames = frames_from_json(catalog.frames, config.site.media_url)
        new_manifest.update({k: v for k, v in manifest.items() if v == STATIC})

    made: list[str] = []
    stage("frames")

    def emit(page: Page) -> None:
        """Fill the page into its frame and write it, unless its digest is unchanged."""
        made.append(page.path)
        frame_key = page.frame or depth_key(page.url.count("/"))
        digest = _page_digest(page, frame_key)
        if not page.url.startswith(POSTS_DIR + "/"):
            digest = LISTING + digest
        new_manifest[page.path] = digest
        target = site_dir / page.path
        if manifest.get(page.path) == digest and target.is_file():
            return
        frame = frames.get(frame_key)
        if frame is None:
            raise BuildError(f"no frame for {page.url or '/'} ({frame_key}); run with --full")
        text = fill_frame(
            frame,
            title=page.title,
            description=page.description,
            url=page.url,
            site_url=config.site.url,
            head=feed_head_links(page, site_feeds),
            body=page.body,
        )
        write_file(target, text.encode("utf-8"))
        written.append(target)
        privacy.add(target)

    # 3. posts whose teaser or page must be made again: new and changed posts, and posts whose
    # thread changed (position, size, parent); each thread is made as a whole and written at
    # once, so memory holds one thread's posts, not the archive's (a cold build makes them all)
    dirty = set(changed)
    for entry in ordered:
        members = threads[entry.id]
        parent = entries.get(entry.reply_to) if entry.reply_to else None
        env: list[Any] = [members.index(entry.id) + 1, len(members)] if len(members) > 1 else [0, 0]
        env.append(parent.url if parent else None)
        if env != entry.env:
            entry.env = env
            dirty.add(entry.id)
    if dirty and not catalog.teasers_loaded:
        catalog.load_teasers()
    if catalog.teasers_loaded:  # a teaser lost (a run stopped between the two files): made again
        dirty.update(entry.id for entry in ordered if not entry.teaser)
    groups = sorted({tuple(threads[post_id]) for post_id in dirty})
    for group in groups:
        thread_views = [view_of(entries[m]) for m in group]
        for post_id, view in zip(group, thread_views, strict=True):
            if post_id in dirty:
                listed = renderer.teaser(view)
                entry = entries[post_id]
                entry.teaser, entry.day, entry.line = listed.teaser, listed.day, listed.line
            emit(renderer.post_page(view, thread_views))
        for post_id in group:
            views.pop(post_id, None)
            loaded.pop(post_id, None)
    rendered = {post_id for group in groups for post_id in group}
    stage("post pages")
    # 4. listings (from the stored teasers), kept as they are when no post changed
    if posts_changed:
        for page in listing_pages(renderer, [entry.listed() for entry in ordered]):
            emit(page)
    else:
        new_manifest.update({k: v for k, v in manifest.items() if v.startswith(LISTING)})
    for entry in ordered:
        if entry.id not in rendered and entry.url + "index.html" in manifest:
            new_manifest[entry.url + "index.html"] = manifest[entry.url + "index.html"]
    if not catalog.entries_loaded:  # no post changed: every post page stays
        new_manifest.update({k: v for k, v in manifest.items() if k.startswith(POSTS_DIR + "/")})
    counts = (
        Counter(entry.account for entry in ordered) if catalog.entries_loaded else catalog.counts
    )
    for path, text in status_pages(config, counts).items():
        emit(page_from_markdown(path, text))
    if not posts_changed:
        new_manifest.update({k: v for k, v in manifest.items() if v.startswith(FEED)})
    if posts_changed or fresh:
        for relative, data in sitemap_files(config.site.url, new_manifest).items():
            new_manifest[relative] = SITEMAP
            target = site_dir / relative
            if write_if_changed(target, data):
                written.append(target)
    else:
        new_manifest.update({k: v for k, v in manifest.items() if v == SITEMAP})
    stage("listings")
    removed_pages = [path for path in manifest if path not in new_manifest]
    for path in removed_pages:
        (site_dir / path).unlink(missing_ok=True)
        _prune_empty_parents(site_dir / path, site_dir)
    # 5. media, 6. feeds, 7. search, 8. reports: only when the posts changed
    media = {m for entry in ordered for m in entry.media}
    media_files = len(media) if catalog.entries_loaded else catalog.media_files
    feeds_count = 0
    search = None
    alt_text = None
    if posts_changed:
        media_files = publish_media(media, archive_media, site_dir / "media")
        stage("media")
        feed_model = feed_views(ordered, threads, view_of, renderer)
        feeds = render_feeds(
            feed_model,
            site_url=config.site.url,
            site_title=config.site.title,
            site_description=config.site.description,
            city=config.city,
            media_size=lambda path: _size(archive_media / path),
        )
        feeds_count = len(feeds)
        stage("feeds")
        for relative, data in feeds.items():
            new_manifest[relative] = FEED + hashlib.sha256(data).hexdigest()[:32]
            target = site_dir / relative
            if manifest.get(relative) != new_manifest[relative] or not target.is_file():
                write_file(target, data)
                written.append(target)
        # one pagefind bundle per year; only the years whose post pages changed are indexed
        years: dict[str, dict[str, str]] = {}
        for entry in ordered:
            path = entry.url + "index.html"
            years.setdefault(str(entry.month[0]), {})[path] = new_manifest[path]
        search, catalog.search = build_search_indexes(
            site_dir, build_dir, config.site.language, years, catalog.search
        )
        if search is not None:
            for year in search.years:
                written.extend(p for p in (site_dir / "pagefind" / year).rglob("*") if p.is_file())
        stage("search")
        lacking = [AltTextGap(*entry.alt_gap) for entry in ordered if entry.alt_gap]
        alt_text = write_alt_text_report(
            lacking,
            build_dir / "reports",
            account_names=renderer.context.account_names,
            timezone=config.site.timezone,
            site_url=config.site.url,
        )
    if published is not None:
        lifecycle.record_build(config.archive_dir, published)
    stage("reports")
    # 9. privacy: the frames carry the policy; the scan reads what this run wrote (everything
    # on a full build), the pages mostly while they were made (``privacy.add`` in emit). A
    # finding raises and the site is not deployed (fetch/site/privacy.py).
    check_report(privacy.finish(None if fresh else written), site_dir)
    stage("privacy scan")
    # 10. size: warn well before the site outgrows its host (GitHub Pages: 1 GB)
    if posts_changed:
        warning = size_warning(
            site_size(site_dir), config.site.size_limit_mb, config.site.size_warn_percent
        )
        if warning:
            log.warning("%s", warning)
        stage("site size")
    # The catalog is rewritten only when it learned something: at 100,000 posts it is some
    # 250 MB of JSON, and a run with nothing new must stay cheap. The status page's digest
    # alone (it shows the time) is not worth it: that page is written again anyway.
    learned = (
        fresh
        or posts_changed
        or bool(dirty)
        or scan.files != catalog.files
        or _without(new_manifest, STATUS_PAGE) != _without(manifest, STATUS_PAGE)
        or not catalog_path.is_file()
    )
    catalog.files = scan.files
    if catalog.entries_loaded:
        catalog.entries = entries
    catalog.manifest = new_manifest
    if learned:
        catalog.save(catalog_path)
    stage("catalog")
    log.info("build steps: %s", ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
    return BuildReport(
        posts=len(ordered) if catalog.entries_loaded else sum(catalog.counts.values()),
        pages=len(made),
        media_files=media_files,
        seconds=time.monotonic() - started,
        site_dir=site_dir,
        feeds=feeds_count,
        search=search,
        alt_text=alt_text,
        written=len(written),
        removed=len(removed_pages),
        full=fresh,
        changed=fresh
        or bool(removed_pages)
        or any(path != site_dir / STATUS_PAGE for path in written),
        stages=stages,
    )


# A cold build parses every post; above this many changed posts they are not kept in memory
# after their catalog entry is made, but parsed again thread by thread as their pages are made.
KEEP_PARSED = 2_000

STATUS_PAGE = "status/index.html"

# Kinds of files in the manifest, by the prefix of their digest: the theme's static files and
# the listings and feeds, which are kept as they are when no post changed.
STATIC = "static"
SITEMAP = "sitemap"
LISTING = "l:"
FEED = "f:"
THEME_SITE = "theme-site"
FRAME_DEPTH = 6  # the deepest generated page: archiv/<yyyy>/<mm>/seite/<n>/ is 5


def build_key(config: Config, root: Path) -> str:
    """What the catalog and the frames were made with: our code, the config, the theme."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".json", ".md", ".css"):
            if "bench" in path.parts or "demo" in path.parts or "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(config.path.read_bytes())
    # the config as loaded (the demo changes it in memory): names, paths, legal texts
    digest.update(repr(config).encode())
    return frame_inputs_hash(root, digest.hexdigest())


def build_frames(
    config: Config, root: Path, build_dir: Path
) -> tuple[dict[str, Frame], dict[str, str]]:
    """mkdocs on the project's pages plus our placeholders, into ``build/theme-site``: the
    frames, and the placeholders' URLs (which are not pages of the site)."""
    docs_dir = build_dir / "docs"
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    source_docs = root / "docs"
    if source_docs.is_dir():
        shutil.copytree(source_docs, docs_dir)
        for key, page in OPTIONAL_PAGES.items():
            if not config.legal.get(key):
                (docs_dir / page).unlink(missing_ok=True)
        fill_templates(docs_dir, config)
    else:
        docs_dir.mkdir(parents=True)
    placeholders = add_placeholders(docs_dir, FRAME_DEPTH, list(NAV_PAGE_META))
    theme_site = build_dir / THEME_SITE
    if theme_site.exists():
        shutil.rmtree(theme_site)
    mkdocs_file = write_mkdocs_config(config, root, build_dir, docs_dir, site_dir=theme_site)
    run_mkdocs(mkdocs_file, strict=False)
    frames = cut_frames(theme_site, placeholders, config.site.url, config.site.media_url)
    return frames, placeholders


def _without(mapping: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in mapping.items() if k != key}


def _page_digest(page: Page, frame_key: str) -> str:
    digest = hashlib.sha256()
    for part in (frame_key, page.title, page.description, json.dumps(page.feeds), page.body):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:32]


def feed_head_links(page: Page, site_feeds: list[dict[str, str]]) -> str:
    """The ``<link rel="alternate">`` tags of the feeds a page announces: the site's feeds
    and its own (an account's). A post's own page announces none: there is one page per post,
    a tenth of the HTML per post would go to them, and every listing and the footer's
    "So abonnieren Sie" lead to the feeds."""
    if page.url.startswith(POSTS_DIR + "/"):
        return ""
    base = "../" * page.url.count("/")
    own = [feed for feed in page.feeds if feed not in site_feeds]
    return "".join(
        f'<link rel="alternate" type="{html.escape(feed["type"])}" '
        f'title="{html.escape(feed["title"])}" href="{html.escape(base + feed["href"])}">'
        for feed in [*site_feeds, *own]
    )


def page_from_markdown(relative: str, text: str) -> Page:
    """A generated Markdown page (front matter and HTML) as a :class:`Page` in its nav frame."""
    head, _, body = text.removeprefix("---\n").partition("\n---\n")
    meta = yaml.safe_load(head) or {}
    return Page(
        url=md_url(relative),
        title=str(meta.get("title", "")),
        description=str(meta.get("description", "")),
        body=body_html(body),
        frame=relative,
    )


def body_html(body: str) -> str:
    """Our pages' bodies are HTML blocks, which Markdown passes through; anything else goes
    through python-markdown with the extensions of ``mkdocs.yml``."""
    stripped = body.strip()
    if stripped.startswith("<") and "\n\n" not in stripped and "markdown=" not in stripped:
        return stripped + "\n"
    import markdown  # type: ignore[import-untyped]

    return str(markdown.markdown(body, extensions=["attr_list", "md_in_html", "toc"]))


def new_entry(post: Post, file: str, renderer: Renderer) -> Entry:
    tags = post_hashtags(post)
    moment = local(post.published, renderer.context.timezone)
    gap = AltTextGap.of(post)
    return Entry(
        id=post.id,
        file=file,
        account=post.account,
        platform=post.platform,
        native_id=post.native_id,
        published=post.published,
        reply_to=post.reply_to,
        url=post_url(post),
        month=(moment.year, moment.month),
        tags=tags,
        tag_slugs=list(dict.fromkeys(hashtag_slug(t) for t in tags)),
        media=media_of(post),
        alt_gap=list(vars(gap).values()) if gap.missing else None,
    )


def feed_views(
    ordered: list[Entry],
    threads: dict[str, list[str]],
    view_of: Callable[[Entry], PostView],
    renderer: Renderer,
) -> SiteModel:
    """The posts the feeds show: the newest of all and the newest of each account."""
    chosen: dict[str, Entry] = {e.id: e for e in ordered[:FEED_SIZE]}
    per_account: Counter[str] = Counter()
    for entry in ordered:
        if per_account[entry.account] < FEED_SIZE:
            per_account[entry.account] += 1
            chosen[entry.id] = entry
    picked = [e for e in ordered if e.id in chosen]
    return SiteModel(
        renderer=renderer,
        views=[view_of(e) for e in picked],
        threads={e.id: threads[e.id] for e in picked},
    )


SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org)


def sitemap_files(site_url: str, manifest: dict[str, str]) -> dict[str, bytes]:
    """``sitemap.xml`` (and ``sitemap.xml.gz``) listing every page of the site; above
    ``SITEMAP_LIMIT`` pages a sitemap index over ``sitemap-<n>.xml`` files. Without
    ``site.url`` there is none: a sitemap needs absolute URLs."""
    if not site_url:
        return {}
    root = site_url.rstrip("/") + "/"
    pages = sorted(
        path.removesuffix("index.html")
        for path, kind in manifest.items()
        if path.endswith("index.html") and kind != SITEMAP and path != "404.html"
    )
    head = '<?xml version="1.0" encoding="utf-8"?>\n'
    space = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'

    def urlset(urls: list[str]) -> bytes:
        body = "".join(f"<url><loc>{html.escape(root + url)}</loc></url>\n" for url in urls)
        return f"{head}<urlset {space}>\n{body}</urlset>\n".encode()

    files: dict[str, bytes] = {}
    if len(pages) <= SITEMAP_LIMIT:
        files["sitemap.xml"] = urlset(pages)
    else:
        names = []
        for number, start in enumerate(range(0, len(pages), SITEMAP_LIMIT), 1):
            name = f"sitemap-{number}.xml"
            files[name] = urlset(pages[start : start + SITEMAP_LIMIT])
            names.append(name)
        body = "".join(f"<sitemap><loc>{html.escape(root + n)}</loc></sitemap>\n" for n in names)
        files["sitemap.xml"] = f"{head}<sitemapindex {space}>\n{body}</sitemapindex>\n".encode()
    files["sitemap.xml.gz"] = gzip.compress(files["sitemap.xml"], mtime=0)
    return files


def _prune_empty_parents(path: Path, stop: Path) -> None:
    parent = path.parent
    while parent != stop and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def fill_templates(docs_dir: Path, config: Config) -> None:
    """The Impressum, Datenschutz, Barrierefreiheit (…) pages are filled from ``legal:``."""
    import jinja2

    env = jinja2.Environment(autoescape=False, undefined=jinja2.ChainableUndefined)  # noqa: S701 (Markdown, not HTML; the text is the city's own)
    env.filters["datum"] = _german_date
    # Line breaks the city typed (an address) stay line breaks in Markdown.
    env.filters["zeilen"] = lambda text: "  \n".join(str(text).strip().splitlines())
    pages = sorted({page for pattern in TEMPLATE_PAGES for page in docs_dir.glob(pattern)})
    for page in pages:
        template = env.from_string(page.read_text(encoding="utf-8"))
        page.write_text(
            template.render(city=config.city, legal=config.legal, site=config.site),
            encoding="utf-8",
        )


def _german_date(value: Any) -> str:
    """``2026-05-04`` (a YAML date or text) as ``4. Mai 2026``; other text unchanged."""
    import datetime as dt

    from .i18n import MONTHS

    if isinstance(value, str):
        text: str = value
        try:
            value = dt.date.fromisoformat(text.strip())
        except ValueError:
            return text
    if isinstance(value, dt.date):
        return f"{value.day}. {MONTHS['de'][value.month - 1]} {value.year}"
    return "" if value is None else str(value)


def write_mkdocs_config(
    config: Config, root: Path, build_dir: Path, docs_dir: Path, *, site_dir: Path | None = None
) -> Path:
    template = root / "mkdocs.yml"
    try:
        data: dict[str, Any] = yaml.safe_load(template.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise BuildError(
            f"{template}: not found; the site needs the project's mkdocs.yml"
        ) from None
    except yaml.YAMLError as exc:
        raise BuildError(f"{template}: not valid YAML ({exc})") from None
    data["docs_dir"] = str(docs_dir)
    data["site_dir"] = str(site_dir or config.site_dir)
    data["site_name"] = config.site.title
    if config.site.url:
        data["site_url"] = config.site.url
    if config.site.description:
        data["site_description"] = config.site.description
    hooks = data.setdefault("hooks", [])
    hooks.append(str(Path(__file__).with_name("theme_hooks.py")))
    theme = data.setdefault("theme", {})
    theme["language"] = config.site.language
    if theme.get("custom_dir"):
        theme["custom_dir"] = str((root / theme["custom_dir"]).resolve())
    strings = STRINGS[config.site.language]
    _add_optional_pages_to_nav(data.get("nav"), config, strings)
    if config.site.language != "de":
        _translate_nav(data.get("nav"), strings)
    extra = data.setdefault("extra", {})
    extra["aushang"] = {
        "city": config.city,
        "feeds": announced_feeds(config.site.title, strings),
        "legal_label": strings["legal"],
        "footer_links": footer_links(config, strings),
        "footer_note": strings["footer_note"].format(city=config.city),
    }
    path = build_dir / "mkdocs.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def footer_links(config: Config, strings: dict[str, str]) -> list[dict[str, str]]:
    """The links every page's footer shows: the legal pages, and how to subscribe."""
    links = [
        {"label": strings["impressum"], "href": "about/impressum/"},
        {"label": strings["datenschutz"], "href": "about/datenschutz/"},
        {"label": strings["barrierefreiheit"], "href": "about/barrierefreiheit/"},
    ]
    for key, page in OPTIONAL_PAGES.items():
        if config.legal.get(key):
            links.append({"label": strings[key], "href": page.removesuffix(".md") + "/"})
    links.append({"label": strings["subscribe_help"], "href": "technik/abonnieren/"})
    return links


def _add_optional_pages_to_nav(nav: Any, config: Config, strings: dict[str, str]) -> bool:
    """Leichte Sprache and Gebärdensprache go into the nav after the Barrierefreiheit page
    when the city configured them (mkdocs.yml cannot name a page that may not exist)."""
    if not isinstance(nav, list):
        return False
    for index, entry in enumerate(nav):
        values = list(entry.values()) if isinstance(entry, dict) else [entry]
        if "about/barrierefreiheit.md" in values:
            pages = [
                {strings[key]: page}
                for key, page in OPTIONAL_PAGES.items()
                if config.legal.get(key)
            ]
            nav[index + 1 : index + 1] = pages
            return True
        if any(_add_optional_pages_to_nav(value, config, strings) for value in values):
            return True
    return False


# Titles in mkdocs.yml's nav are German; for another site language, the entries of pages
# Aushang itself makes are renamed by their file (a city's own entries stay as written).
_NAV_KEYS = {
    "index.md": "timeline",
    "archiv/index.md": "archive",
    "konto/index.md": "accounts",
    "hashtag/index.md": "hashtags",
    "suche/index.md": "search",
    "about/impressum.md": "impressum",
    "about/datenschutz.md": "datenschutz",
    "about/barrierefreiheit.md": "barrierefreiheit",
    "technik/abonnieren.md": "subscribe_help",
}


def _translate_nav(nav: Any, strings: dict[str, str]) -> None:
    if not isinstance(nav, list):
        return
    for index, entry in enumerate(nav):
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        ((title, value),) = entry.items()
        if isinstance(value, str) and value in _NAV_KEYS:
            nav[index] = {strings[_NAV_KEYS[value]]: value}
        elif isinstance(value, list):
            if value and value[0] == "about/index.md":
                nav[index] = {strings["about"]: value}
            _translate_nav(value, strings)


def run_mkdocs(mkdocs_file: Path, *, strict: bool) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    try:
        mkdocs_config = load_config(str(mkdocs_file), strict=strict)
        build(mkdocs_config)
    except MkDocsException as exc:
        raise BuildError(f"mkdocs build failed: {exc}") from exc
    except SystemExit as exc:  # mkdocs' --strict ends with SystemExit on warnings
        raise BuildError(
            f"mkdocs build failed (strict mode, see the warnings above): {exc}"
        ) from exc


def publish_media(wanted: set[str], archive_media: Path, target: Path) -> int:
    """Link the media files ``wanted`` into ``target``; drop all others."""
    if target.exists():
        for path in target.rglob("*"):
            if path.is_file() and path.relative_to(target).as_posix() not in wanted:
                path.unlink()
    for relative in sorted(wanted):
        source, destination = archive_media / relative, target / relative
        if destination.exists():
            continue
        if not source.exists():
            log.warning("media file missing from the archive: %s", relative)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
    return len(wanted)
