"""The theme's frame around our pages: mkdocs renders it once, our code fills it many times.

mkdocs-material builds what it is good at: the project's static pages (``docs/``: Impressum,
Datenschutz, ...) and, for our generated pages, placeholders: one page per URL depth
(``aushang-rahmen/x/.../``) and one at the place of each generated page the nav names (the
home page, the overviews, the search page, the status page), each with the front matter the
real page has. Cut at their markers, the placeholders become :class:`Frame` objects with
slots for the title, the description, the canonical URL, extra ``<head>`` links and the
content. Every generated page is then a frame filled in by a string join: its relative paths
to CSS and JS are right because the frame comes from the same depth, and a nav page's frame
marks it as the current nav entry.

Before it is cut, each placeholder page is made lean (``fetch.site.lean``): what only the
theme's JavaScript uses (its scripts, the palette form, the drawer, hidden sidebars) is taken
out, once per frame, and a small script of ours makes the colour scheme follow the system's.
The static pages keep the theme's full page.

The frame carries the privacy policy (``fetch.site.privacy.with_policy``): the
Content-Security-Policy holds the hashes of the frame's inline scripts, which are the same on
every page of a depth. Our content brings no inline script; a page whose content loads
pagefind gets its own policy when it is filled (``Frame.fill``).

Nothing here depends on material's internals beyond its producing a full HTML page from a
Markdown page (the lean step finds the theme's parts by their markup and leaves alone what it
does not find): another mkdocs-compatible generator (Zensical) produces frames the same way.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import AushangError
from .lean import LOGO_FILE, lean_page, logo_svg
from .privacy import uses_pagefind, with_policy

FRAME_DIR = "aushang-rahmen"
MARK_TITLE = "AUSHANGRAHMENTITEL"
MARK_DESCRIPTION = "AUSHANGRAHMENBESCHREIBUNG"
MARK_START = "<!--AUSHANG-RAHMEN-START-->"
MARK_END = "<!--AUSHANG-RAHMEN-ENDE-->"
SLOT = "\x00"
# Front matter of the pages that are generated and named in the nav: their frames are made
# from placeholders with the same settings (what the theme hides, whether the search script
# loads), so the filled page is what mkdocs would have made of the real one.
HIDE_ALL = {"hide": ["navigation", "toc"]}
NAV_PAGE_META: dict[str, dict[str, Any]] = {
    "index.md": HIDE_ALL,
    "archiv/index.md": {"hide": ["toc"]},
    "konto/index.md": {"hide": ["toc"]},
    "hashtag/index.md": {"hide": ["toc"]},
    "suche/index.md": {**HIDE_ALL, "aushang_search": True},
    "status.md": {"hide": ["navigation"]},
}


class FrameError(AushangError):
    pass


def depth_key(depth: int) -> str:
    return f"depth:{depth}"


def placeholder_url(depth: int) -> str:
    return "" if depth == 0 else FRAME_DIR + "/" + "x/" * (depth - 1)


def placeholder_page(meta: dict[str, Any]) -> str:
    # The <h1> keeps the theme from adding one of its own; our pages bring theirs.
    front = {"title": MARK_TITLE, "description": MARK_DESCRIPTION, **meta}
    return (
        "---\n"
        + yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
        + f"---\n\n{MARK_START}\n\n<h1>{MARK_TITLE}</h1>\n\n{MARK_END}\n"
    )


def md_url(relative: str) -> str:
    """The URL mkdocs gives a Markdown file (directory URLs): ``a/index.md`` -> ``a/``."""
    if relative == "index.md":
        return ""
    if relative.endswith("/index.md"):
        return relative.removesuffix("index.md")
    return relative.removesuffix(".md") + "/"


@dataclass
class Frame:
    """A theme page cut at its markers: literal parts and named slots, alternating."""

    parts: list[str]
    media_url: str = ""

    @classmethod
    def cut(cls, page: str, url: str, site_url: str, media_url: str = "") -> Frame:
        if MARK_START not in page or MARK_END not in page:
            raise FrameError(
                f"the theme's page for {url or '/'} lost the content markers; does "
                "overrides/main.html still render the page content?"
            )
        start, end = page.index(MARK_START), page.index(MARK_END) + len(MARK_END)
        # our content starts and ends with a block: the line breaks around it are not rendered
        template = page[:start].rstrip() + f"{SLOT}content{SLOT}" + page[end:].lstrip()
        template = template.replace(MARK_TITLE, f"{SLOT}title{SLOT}")
        template = template.replace(MARK_DESCRIPTION, f"{SLOT}description{SLOT}")
        head_end = template.lower().find("</head>")
        if head_end < 0:
            raise FrameError(f"the theme's page for {url or '/'} has no </head>")
        template = template[:head_end] + f"{SLOT}head{SLOT}" + template[head_end:]
        if site_url:
            canonical = f'href="{site_url.rstrip("/")}/{url}"'
            template = template.replace(canonical, f'href="{SLOT}url{SLOT}"')
        return cls(template.split(SLOT), media_url)

    def fill(self, values: dict[str, str]) -> str:
        page = "".join(values[part] if index % 2 else part for index, part in enumerate(self.parts))
        if uses_pagefind(values["content"]) or "<script" in values["content"]:
            # the policy must allow what the content brings
            page = with_policy(page, media_url=self.media_url or None)
        return page


def fill_frame(
    frame: Frame, *, title: str, description: str, url: str, site_url: str, head: str, body: str
) -> str:
    return frame.fill(
        {
            "title": html.escape(title, quote=True),
            "description": html.escape(description, quote=True),
            "url": f"{site_url.rstrip('/')}/{url}",
            "head": head,
            "content": body,
        }
    )


def frame_inputs_hash(root: Path, extra: str) -> str:
    """Everything the frames are made of: ``mkdocs.yml``, ``docs/``, ``overrides/``, the theme's
    version, and ``extra`` (the config, our own hook file)."""
    import material  # type: ignore[import-untyped]

    digest = hashlib.sha256()
    digest.update(f"{getattr(material, '__version__', '')}|{extra}".encode())
    for name in ("mkdocs.yml", "docs", "overrides"):
        path = root / name
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
        else:
            files = []
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def add_placeholders(docs: Path, depth: int, nav_pages: list[str]) -> dict[str, str]:
    """Write the placeholder pages into ``docs``; return {frame key: URL of its page}."""
    placeholders: dict[str, str] = {}
    for level in range(1, depth + 1):
        key = depth_key(level)
        placeholders[key] = placeholder_url(level)
        target = docs / placeholder_url(level) / "index.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(placeholder_page(HIDE_ALL), encoding="utf-8")
    placeholders[depth_key(0)] = ""  # the home page's frame serves depth 0
    for relative in nav_pages:
        target = docs / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(placeholder_page(NAV_PAGE_META.get(relative, HIDE_ALL)), "utf-8")
        placeholders[relative] = md_url(relative)
    return placeholders


def cut_frames(
    theme_site: Path, placeholders: dict[str, str], site_url: str, media_url: str = ""
) -> dict[str, Frame]:
    """The frames from the built placeholder pages, made lean (``fetch.site.lean``), each with
    its privacy policy set."""
    frames = {}
    for key, url in placeholders.items():
        theme_page = (theme_site / url / "index.html").read_text(encoding="utf-8")
        logo = logo_svg(theme_page)
        if logo is not None:  # the lean frames show it from a file (lean.LOGO_FILE)
            (theme_site / LOGO_FILE).parent.mkdir(parents=True, exist_ok=True)
            (theme_site / LOGO_FILE).write_text(logo, encoding="utf-8")
        page = lean_page(theme_page, url)
        policed = with_policy(page, media_url=media_url or None)
        frames[key] = Frame.cut(policed, url, site_url, media_url)
    return frames


def static_files(theme_site: Path, placeholders: dict[str, str]) -> list[str]:
    """The files of the theme's output that are the site's own (not a placeholder)."""
    skip = {url + "index.html" for url in placeholders.values()}
    found = []
    for path in sorted(theme_site.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(theme_site).as_posix()
        if relative in skip or relative.startswith(FRAME_DIR + "/"):
            continue
        if relative in ("sitemap.xml", "sitemap.xml.gz"):
            continue  # the theme's lists only its own pages; the build writes the site's
        found.append(relative)
    return found


def copy_if_changed(source: Path, target: Path, media_url: str = "") -> bool:
    """Copy ``source`` over ``target`` unless they hold the same bytes; True when copied. A
    page gets the privacy policy on the way (the theme's inline scripts, hashed)."""
    data = source.read_bytes()
    if source.suffix == ".html":
        page = with_policy(data.decode("utf-8"), source, media_url=media_url or None)
        data = page.encode("utf-8")
    return write_if_changed(target, data)


def write_if_changed(target: Path, data: bytes) -> bool:
    """``write_file`` unless ``target`` holds these bytes already; True when written."""
    try:
        if target.read_bytes() == data:
            return False
    except OSError:
        pass
    write_file(target, data)
    return True


def write_file(target: Path, data: bytes) -> None:
    """Replace ``target`` at once (a reader never sees half a page). Unlike the archive's
    ``write_atomic`` there is no fsync: the site is made again from the archive at any time,
    and syncing tens of thousands of pages would cost a full build minutes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(target)


def frames_to_json(frames: dict[str, Frame]) -> dict[str, list[str]]:
    return {key: frame.parts for key, frame in frames.items()}


def frames_from_json(data: Any, media_url: str = "") -> dict[str, Frame]:
    if not isinstance(data, dict):
        return {}
    return {str(key): Frame([str(p) for p in parts], media_url) for key, parts in data.items()}
