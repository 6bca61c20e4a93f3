"""Build the static site from the archive, offline: generate pages, run mkdocs, add media.

1. Read every post from the archive, leave out the city's takedowns.
2. Copy the project's ``docs/`` (static pages) into ``build/docs`` and write the generated
   pages beside them (``fetch.site.render``).
3. Write ``build/mkdocs.yml``: the project's ``mkdocs.yml`` with the paths made absolute, the
   city's name and language filled in; run ``mkdocs build`` on it.
4. Hard-link (or copy) the media the published posts use from the archive into ``site/media``.
   They go around mkdocs, which would otherwise copy tens of thousands of images twice.

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

from ..archive import Archive
from ..config import Config
from ..errors import AushangError
from ..model import Post
from .render import SiteContext, render_site

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


def project_root(config: Config) -> Path:
    """The folder holding mkdocs.yml, docs/ and overrides/: the config file's folder."""
    return config.path.resolve().parent


def is_taken_down(post: Post, takedown: tuple[str, ...]) -> bool:
    return any(entry in (post.id, post.native_id, post.url) for entry in takedown)


def load_posts(config: Config) -> list[Post]:
    archive = Archive(config.archive_dir)
    return [p for p in archive.iter_posts() if not is_taken_down(p, config.takedown)]


def build_site(config: Config, *, strict: bool = True) -> BuildReport:
    started = time.monotonic()
    root = project_root(config)
    build_dir = root / "build"
    docs_dir = build_dir / "docs"
    posts = load_posts(config)
    context = SiteContext(
        language=config.site.language,
        timezone=config.site.timezone,
        account_names={a.key: a.name for a in config.accounts},
        posts_per_page=config.site.posts_per_page,
    )
    files = render_site(posts, context)
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    source_docs = root / "docs"
    if source_docs.is_dir():
        shutil.copytree(source_docs, docs_dir)
        fill_templates(docs_dir / "about", config)
    for relative, content in files.items():
        target = docs_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    mkdocs_file = write_mkdocs_config(config, root, build_dir, docs_dir)
    run_mkdocs(mkdocs_file, strict=strict)
    media_files = publish_media(posts, config.archive_dir / "media", config.site_dir / "media")
    return BuildReport(
        posts=len(posts),
        pages=len(files),
        media_files=media_files,
        seconds=time.monotonic() - started,
        site_dir=config.site_dir,
    )


def fill_templates(folder: Path, config: Config) -> None:
    """The Impressum, Datenschutz and Barrierefreiheit pages are filled from ``legal:``."""
    import jinja2

    env = jinja2.Environment(autoescape=False, undefined=jinja2.ChainableUndefined)  # noqa: S701 (Markdown, not HTML; the text is the city's own)
    for page in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        template = env.from_string(page.read_text(encoding="utf-8"))
        page.write_text(
            template.render(city=config.city, legal=config.legal, site=config.site),
            encoding="utf-8",
        )


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
    theme = data.setdefault("theme", {})
    theme["language"] = config.site.language
    if theme.get("custom_dir"):
        theme["custom_dir"] = str((root / theme["custom_dir"]).resolve())
    extra = data.setdefault("extra", {})
    extra["aushang"] = {"city": config.city, "legal": config.legal}
    path = build_dir / "mkdocs.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


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
