"""Build the static site from the archive, offline: generate pages, run mkdocs, add media.

1. Read every post from the archive, leave out the city's takedowns.
2. Copy the project's ``docs/`` (static pages) into ``build/docs``, fill the legal pages from
   ``legal:`` (leaving out the optional ones the city has not configured) and write the
   generated pages beside them (``fetch.site.render``).
3. Write ``build/mkdocs.yml``: the project's ``mkdocs.yml`` with the paths made absolute, the
   city's name and language filled in; run ``mkdocs build`` on it.
4. Hard-link (or copy) the media the published posts use from the archive into ``site/media``.
   They go around mkdocs, which would otherwise copy tens of thousands of images twice.
5. Write the feeds (``fetch.site.feeds``) into the site.
6. Index the post pages for search (``fetch.site.search``, pagefind).
7. Write the reports for the city's team into ``build/reports`` (not published):
   ``alt-text.md`` lists the posts whose images lack a description.

Nothing here touches the network.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import lifecycle
from ..archive import Archive
from ..config import Config
from ..errors import AushangError
from ..model import Post
from .feeds import announced_feeds, render_feeds, write_feeds
from .i18n import STRINGS
from .privacy import enforce_privacy
from .render import SiteContext, prepare, render_pages
from .reports import AltTextReport, write_alt_text_report
from .search import SearchIndexReport, build_search_index
from .status import status_pages

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

    def summary(self) -> str:
        """One line for the build output, with where the alt-text report is."""
        line = (
            f"built {self.posts} posts, {self.pages} generated pages, {self.media_files} media "
            f"files, {self.feeds} feeds in {self.seconds:.1f} s -> {self.site_dir}"
        )
        if self.search is not None:
            line += f"; search index: {self.search.pages} pages"
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


def load_posts(config: Config) -> list[Post]:
    archive = Archive(config.archive_dir)
    return [p for p in archive.iter_posts() if not is_taken_down(p, config.takedown)]


def build_site(config: Config, *, strict: bool = True, allow_drop: bool = False) -> BuildReport:
    started = time.monotonic()
    root = project_root(config)
    build_dir = root / "build"
    docs_dir = build_dir / "docs"
    # 1. posts
    posts = load_posts(config)
    # Refused before anything is written when far fewer posts would be published than last time.
    published = lifecycle.check_publish_drop(
        config.archive_dir, posts, max_drop_percent=config.max_drop_percent, allow_drop=allow_drop
    )
    context = SiteContext(
        language=config.site.language,
        timezone=config.site.timezone,
        account_names={a.key: a.name for a in config.accounts},
        posts_per_page=config.site.posts_per_page,
        account_platforms={a.key: a.platform for a in config.accounts},
        site_title=config.site.title,
    )
    model = prepare(posts, context)
    files = render_pages(model)
    files.update(status_pages(config, posts))
    # 2. pages
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    source_docs = root / "docs"
    if source_docs.is_dir():
        shutil.copytree(source_docs, docs_dir)
        for key, page in OPTIONAL_PAGES.items():
            if not config.legal.get(key):
                (docs_dir / page).unlink(missing_ok=True)
        fill_templates(docs_dir, config)
    for relative, content in files.items():
        target = docs_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    # 3. mkdocs
    mkdocs_file = write_mkdocs_config(config, root, build_dir, docs_dir)
    run_mkdocs(mkdocs_file, strict=strict)
    # 4. media
    archive_media = config.archive_dir / "media"
    media_files = publish_media(posts, archive_media, config.site_dir / "media")
    # 5. feeds
    feeds = render_feeds(
        model,
        site_url=config.site.url,
        site_title=config.site.title,
        site_description=config.site.description,
        city=config.city,
        media_size=lambda path: _size(archive_media / path),
    )
    write_feeds(feeds, config.site_dir)
    # 6. search
    search = build_search_index(config.site_dir, config.site.language) if posts else None
    # 7. reports
    alt_text = write_alt_text_report(
        posts,
        build_dir / "reports",
        account_names=context.account_names,
        timezone=config.site.timezone,
        site_url=config.site.url,
    )
    lifecycle.record_build(config.archive_dir, published)
    # 8. privacy: the policy goes into every page, then the scan; a finding raises and the site
    # is not deployed (fetch/site/privacy.py, docs/technik/datenschutz-nachweis.md).
    enforce_privacy(config.site_dir, site_url=config.site.url or None)
    return BuildReport(
        posts=len(posts),
        pages=len(files),
        media_files=media_files,
        seconds=time.monotonic() - started,
        site_dir=config.site_dir,
        feeds=len(feeds),
        search=search,
        alt_text=alt_text,
    )


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


def write_mkdocs_config(config: Config, root: Path, build_dir: Path, docs_dir: Path) -> Path:
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
    data["site_dir"] = str(config.site_dir)
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


def publish_media(posts: list[Post], archive_media: Path, target: Path) -> int:
    """Link every media file the published posts use into ``target``; drop all others."""
    wanted: set[str] = set()
    for post in posts:
        items = list(post.media)
        if post.card and post.card.image:
            items.append(post.card.image)
        for item in items:
            wanted.update(v.path for v in item.variants)
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
