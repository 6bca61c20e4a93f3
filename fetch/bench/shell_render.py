"""Prototype (not wired into ``build_site``): render post and listing pages into the theme's shell.

mkdocs builds what it is good at: the handful of static pages (about, Impressum, ...) and one
placeholder page per URL depth (``index.md`` for depth 0, ``aushang-shell/x/.../index.md``
deeper). Each placeholder's HTML is the theme's frame with markers for the title, the
description, the canonical URL and the content; cut at the markers it becomes a ``Shell``.
Our own code then writes every generated page (posts, timeline pages) by filling the shell of
its depth, so relative paths to CSS and JS stay right without rewriting a single URL.

Incremental: a manifest maps every page to the hash of its source (the generated Markdown and
the shell). A run writes only pages whose hash changed and deletes pages that are gone
(takedowns); mkdocs runs again only when the shell's inputs changed (``mkdocs.yml``, ``docs/``,
``overrides/``, the config, the theme's version).

Run as ``python -m fetch.bench.shell_render --config aushang.yml --site DIR --state DIR``;
prints the phases as JSON. ``bench_shell`` measures it inside ``python -m fetch.bench``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import Config, load_config
from .yardstick import output_path, split_front_matter

SHELL_DIR = "aushang-shell"
MARK_TITLE = "AUSHANGSHELLTITLE"
MARK_DESCRIPTION = "AUSHANGSHELLDESCRIPTION"
MARK_START = "<!--AUSHANG-SHELL-START-->"
MARK_END = "<!--AUSHANG-SHELL-END-->"
SLOT = "\x00"
MANIFEST = "manifest.json"
QUICK = "inputs.sha256"
SHELLS = "shells.json"


def placeholder_url(depth: int) -> str:
    return "" if depth == 0 else SHELL_DIR + "/" + "x/" * (depth - 1)


def placeholder_page() -> str:
    # The <h1> keeps material from adding one of its own; our pages bring theirs.
    return (
        f"---\ntitle: {MARK_TITLE}\ndescription: {MARK_DESCRIPTION}\n"
        "hide:\n  - navigation\n  - toc\n---\n\n"
        f"{MARK_START}\n\n<h1>{MARK_TITLE}</h1>\n\n{MARK_END}\n"
    )


@dataclass
class Shell:
    """A theme page cut at its markers: literal parts and named slots, alternating."""

    parts: list[str]

    @classmethod
    def cut(cls, page: str, url: str, site_url: str) -> Shell:
        start, end = page.index(MARK_START), page.index(MARK_END) + len(MARK_END)
        template = page[:start] + f"{SLOT}content{SLOT}" + page[end:]
        template = template.replace(MARK_TITLE, f"{SLOT}title{SLOT}")
        template = template.replace(MARK_DESCRIPTION, f"{SLOT}description{SLOT}")
        if site_url:
            template = template.replace(
                f'href="{site_url.rstrip("/")}/{url}"', f'href="{SLOT}url{SLOT}"'
            )
        return cls(template.split(SLOT))

    def fill(self, values: dict[str, str]) -> str:
        return "".join(values[part] if index % 2 else part for index, part in enumerate(self.parts))

    def slimmed(self) -> Shell:
        """The same frame without indentation and blank lines (never inside the content)."""
        return Shell(
            [part if index % 2 else _collapse(part) for index, part in enumerate(self.parts)]
        )


def _collapse(text: str) -> str:
    return re.sub(r"[ \t]*\n\s*", "\n", text)


def body_html(body: str) -> str:
    """The page body as HTML. Our generated pages are one HTML block: Markdown passes it
    through as it is, so it is taken as it is; anything else goes through python-markdown."""
    stripped = body.strip()
    if stripped.startswith("<") and "\n\n" not in stripped and "markdown=" not in stripped:
        return stripped
    import markdown  # type: ignore[import-untyped]

    return str(markdown.markdown(body, extensions=["attr_list", "md_in_html", "toc"]))


def _shell_inputs_hash(
    config: Config, root: Path, depth: int, slim: bool, own_shell: list[str]
) -> str:
    import material  # type: ignore[import-untyped]

    digest = hashlib.sha256()
    digest.update(f"{depth}|{slim}|{getattr(material, '__version__', '')}|{own_shell}".encode())
    digest.update(config.path.read_bytes())
    for name in ("mkdocs.yml", "docs", "overrides"):
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def nav_pages(root: Path) -> set[str]:
    """The Markdown files the project's ``mkdocs.yml`` names in its nav."""
    data = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8")) or {}
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, str) and item.endswith(".md"):
            found.add(item)
        elif isinstance(item, list):
            for entry in item:
                walk(entry)
        elif isinstance(item, dict):
            for value in item.values():
                walk(value)

    walk(data.get("nav"))
    return found


def depth_key(depth: int) -> str:
    return f"depth:{depth}"


def _inputs_fingerprint(config: Config, root: Path) -> str:
    """Every input of the pages, cheaply: the archive's post files by name, size and mtime
    (a write that changes a post replaces its file), the run status, config and frame."""
    digest = hashlib.sha256(_shell_inputs_hash(config, root, 0, False, []).encode())
    posts = config.archive_dir / "posts"
    for folder in sorted(os.scandir(posts), key=lambda e: e.name) if posts.is_dir() else []:
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder.path), key=lambda e: e.name):
            info = entry.stat()
            digest.update(
                f"{folder.name}/{entry.name}|{info.st_size}|{info.st_mtime_ns}\n".encode()
            )
    for name in ("status.json",):
        path = config.archive_dir / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_shells(
    config: Config,
    root: Path,
    site_dir: Path,
    state_dir: Path,
    depth: int,
    own_shell: list[str],
    slim: bool,
) -> dict[str, Shell]:
    """mkdocs on the static pages plus placeholders; returns the shells, cut at the markers.

    A generated page named in the nav (``own_shell``: the home page, the overviews) gets a
    placeholder at its own path, so its shell marks it as the current nav entry; every other
    page uses the shell of its depth (``depth:<n>``).
    """
    from ..site import build

    docs = state_dir / "docs"
    shutil.rmtree(docs, ignore_errors=True)
    if (root / "docs").is_dir():
        shutil.copytree(root / "docs", docs)
        for key, page in getattr(build, "OPTIONAL_PAGES", {}).items():
            if not config.legal.get(key):
                (docs / page).unlink(missing_ok=True)
        if hasattr(build, "TEMPLATE_PAGES"):  # fill_templates takes the docs folder now
            build.fill_templates(docs, config)
        else:
            for folder in getattr(build, "TEMPLATE_FOLDERS", ("about",)):
                build.fill_templates(docs / folder, config)
    placeholders = {depth_key(level): placeholder_url(level) for level in range(1, depth + 1)}
    for relative in own_shell:
        placeholders[relative] = output_path(relative).removesuffix("index.html")
    for relative, url in placeholders.items():
        target = docs / (relative if relative.endswith(".md") else url + "index.md")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(placeholder_page(), encoding="utf-8")
    mkdocs_file = build.write_mkdocs_config(config, root, state_dir, docs)
    data = yaml.safe_load(mkdocs_file.read_text(encoding="utf-8"))
    data["site_dir"] = str(site_dir)
    mkdocs_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    build.run_mkdocs(mkdocs_file, strict=False)
    shells = {}
    for key, url in placeholders.items():
        page = _with_policy((site_dir / url / "index.html").read_text(encoding="utf-8"))
        shell = Shell.cut(page, url, config.site.url)
        shells[key] = shell.slimmed() if slim else shell
    shutil.rmtree(site_dir / SHELL_DIR, ignore_errors=True)
    _drop_placeholders_from_search(site_dir)
    return shells


def _with_policy(page: str) -> str:
    """The privacy policy (CSP with the hashes of the frame's inline scripts), once per shell:
    our content brings no script, so every page of a depth shares its shell's policy."""
    try:
        from ..site.privacy import with_policy
    except ImportError:
        return page
    return with_policy(page)


def _drop_placeholders_from_search(site_dir: Path) -> None:
    index = site_dir / "search" / "search_index.json"
    if not index.is_file():
        return
    data = json.loads(index.read_text(encoding="utf-8"))
    data["docs"] = [
        d for d in data.get("docs", []) if not str(d.get("location", "")).startswith(SHELL_DIR)
    ]
    index.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def generate_files(config: Config, posts: list[Any]) -> dict[str, str]:
    """The generated Markdown pages, made the way ``build_site`` makes them today.

    ``fetch.site`` is changing while this prototype lives beside it: the context gets those of
    build_site's arguments that ``SiteContext`` has, and the status pages are added if they exist.
    """
    import dataclasses

    from ..site import render

    wanted: dict[str, Any] = {
        "language": config.site.language,
        "timezone": config.site.timezone,
        "account_names": {a.key: a.name for a in config.accounts},
        "posts_per_page": config.site.posts_per_page,
        "account_platforms": {a.key: a.platform for a in config.accounts},
        "site_title": config.site.title,
    }
    known = {f.name for f in dataclasses.fields(render.SiteContext)}
    context = render.SiteContext(**{k: v for k, v in wanted.items() if k in known})
    files: dict[str, str] = dict(render.render_site(posts, context))
    try:
        from ..site.status import status_pages
    except ImportError:
        return files
    files.update(status_pages(config, posts))
    return files


def render_shell_site(
    config: Config, site_dir: Path, state_dir: Path, *, slim: bool = False, search: bool = False
) -> dict[str, Any]:
    from ..site.build import load_posts, project_root, publish_media

    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = now - clock
        clock = now

    root = project_root(config)
    # Nothing changed since the last run (no post, no status, no config, no frame): nothing to
    # do. This is what keeps an hourly run without news from costing what the archive costs.
    inputs = _inputs_fingerprint(config, root)
    quick = state_dir / QUICK
    if site_dir.is_dir() and quick.is_file() and quick.read_text(encoding="utf-8") == inputs:
        lap("fingerprint")
        return {
            "posts": None,
            "pages": None,
            "written": 0,
            "removed": 0,
            "skipped": True,
            "shell_rebuilt": False,
            "media_files": None,
            "phases": timings,
        }
    lap("fingerprint")
    posts = load_posts(config)
    lap("load_posts")
    files = generate_files(config, posts)
    lap("render_markdown")

    pages = {output_path(relative): text for relative, text in files.items()}
    own_shell = sorted((set(files) & nav_pages(root)) | ({"index.md"} & set(files)))
    shell_of = {output_path(relative): relative for relative in own_shell}
    depth = max((target.count("/") for target in pages), default=0)
    state_dir.mkdir(parents=True, exist_ok=True)
    shell_hash = _shell_inputs_hash(config, root, depth, slim, own_shell)
    manifest_path, shells_path = state_dir / MANIFEST, state_dir / SHELLS
    manifest: dict[str, str] = {}
    shells: dict[str, Shell] | None = None
    try:
        stored = json.loads(shells_path.read_text(encoding="utf-8"))
        if stored["hash"] == shell_hash and site_dir.is_dir():
            shells = {key: Shell(parts) for key, parts in stored["shells"].items()}
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, KeyError):
        pass
    rebuilt_shell = shells is None
    if shells is None:
        shells = build_shells(config, root, site_dir, state_dir, depth, own_shell, slim)
        shells_path.write_text(
            json.dumps({"hash": shell_hash, "shells": {k: s.parts for k, s in shells.items()}}),
            "utf-8",
        )
    lap("shell")

    written = 0
    new_manifest: dict[str, str] = {}
    for target, text in pages.items():
        digest = hashlib.sha256((shell_hash + text).encode("utf-8")).hexdigest()[:32]
        new_manifest[target] = digest
        path = site_dir / target
        if manifest.get(target) == digest and path.exists():
            continue
        meta, body = split_front_matter(text)
        url = target.removesuffix("index.html")
        shell = shells[shell_of.get(target) or depth_key(target.count("/"))]
        page = shell.fill(
            {
                "title": html.escape(str(meta.get("title", "")), quote=False),
                "description": html.escape(str(meta.get("description", "")), quote=True),
                "url": f"{config.site.url.rstrip('/')}/{url}",
                "content": body_html(body),
            }
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        written += 1
    removed = 0
    for target in set(manifest) - set(new_manifest):
        (site_dir / target).unlink(missing_ok=True)
        removed += 1
    manifest_path.write_text(json.dumps(new_manifest), encoding="utf-8")
    quick.write_text(inputs, encoding="utf-8")
    lap("pages")
    media_files = publish_media(posts, config.archive_dir / "media", site_dir / "media")
    lap("media")
    if search:
        # pagefind has no incremental mode: it reads every post page again.
        from ..site.search import build_search_index

        build_search_index(site_dir, config.site.language)
        lap("search")
    return {
        "posts": len(posts),
        "pages": len(pages),
        "written": written,
        "removed": removed,
        "shell_rebuilt": rebuilt_shell,
        "media_files": media_files,
        "skipped": False,
        "phases": timings,
    }


# -- size breakdown ---------------------------------------------------------------------------
def page_breakdown(page: str) -> dict[str, int]:
    """Where the bytes of one theme page go: whitespace, inline SVG, the drawer nav, ..."""
    collapsed = _collapse(page)
    svgs = re.findall(r"<svg\b.*?</svg>", collapsed, re.S)
    nav_start = collapsed.find('<div class="md-sidebar md-sidebar--primary"')
    nav_end = collapsed.find('<div class="md-sidebar md-sidebar--secondary"')
    search_start = collapsed.find('<div class="md-search"')
    search_end = collapsed.find("</header>")
    article = re.search(r"<article\b.*?</article>", collapsed, re.S)
    return {
        "page": len(page.encode()),
        "indentation_and_blank_lines": len(page.encode()) - len(collapsed.encode()),
        "inline_svg": sum(len(s.encode()) for s in svgs),
        "inline_svg_count": len(svgs),
        "drawer_nav": len(collapsed[nav_start:nav_end].encode()) if 0 <= nav_start < nav_end else 0,
        "search_dialog": len(collapsed[search_start:search_end].encode())
        if 0 <= search_start < search_end
        else 0,
        "article": len(article.group(0).encode()) if article else 0,
    }


def slim_page(page: str) -> tuple[str, dict[str, int]]:
    """A post page as it could be: no indentation, SVG icons as <use> of one shared sprite,
    the drawer nav (a copy of the header's links for phones) reduced to the links themselves."""
    collapsed = _collapse(page)
    symbols: dict[str, str] = {}

    def to_use(match: re.Match[str]) -> str:
        key = hashlib.sha1(match.group(0).encode()).hexdigest()[:6]  # noqa: S324 (an id)
        symbols[key] = match.group(0)
        return f'<svg><use href="/i.svg#{key}"/></svg>'

    with_sprite = re.sub(r"<svg\b.*?</svg>", to_use, collapsed, flags=re.S)
    nav_start = with_sprite.find('<div class="md-sidebar md-sidebar--primary"')
    nav_end = with_sprite.find('<div class="md-sidebar md-sidebar--secondary"')
    without_nav = with_sprite
    if 0 <= nav_start < nav_end:
        links = re.findall(r'<a href="[^"]*"[^>]*>.*?</a>', with_sprite[nav_start:nav_end], re.S)
        simple = (
            '<nav aria-label="Navigation"><ul>'
            + "".join(
                f"<li>{re.sub(r'<[^a/][^>]*>|</(?!a)[^>]*>', '', link)}</li>" for link in links
            )
            + "</ul></nav>"
        )
        without_nav = with_sprite[:nav_start] + simple + with_sprite[nav_end:]
    return without_nav, {
        "collapsed": len(collapsed.encode()),
        "sprite": len(with_sprite.encode()),
        "simple_nav": len(without_nav.encode()),
    }


# -- benchmark --------------------------------------------------------------------------------
def bench_shell(work: Path, config_path: Path) -> dict[str, Any]:
    """Full and incremental shell renders of the project in ``work``, next to build_site's."""
    import random

    from ..archive import Archive
    from . import measure

    site, state = work / "shell-site", work / "shell-state"
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    command = [sys.executable, "-m", "fetch.bench.shell_render", "--config", str(config_path)]
    command += ["--site", str(site), "--state", str(state)]

    def run(*extra: str) -> tuple[measure.ChildResult, dict[str, Any]]:
        result = measure.run_child(command + list(extra), cwd=work)
        if not result.ok:
            raise RuntimeError(f"shell render failed:\n{result.tail(20)}")
        return result, json.loads(result.stdout)

    try:
        full, full_data = run()
        same = compare_with_mkdocs(site, work / "site")
        nothing, nothing_data = run()
        archive = Archive(work / "archive")
        _add_synthetic_posts(archive, 5, random.Random(5))  # noqa: S311 (synthetic posts)
        incremental, incremental_data = run()
        _add_synthetic_posts(archive, 5, random.Random(6))  # noqa: S311 (synthetic posts)
        with_search, with_search_data = run("--search")
    except RuntimeError as exc:
        return {"error": str(exc)}
    post_pages = sorted((site / "beitrag").rglob("index.html"))
    sizes = [p.stat().st_size for p in post_pages]
    sample = [p.read_text(encoding="utf-8") for p in post_pages[:: max(1, len(post_pages) // 200)]]
    slim = [slim_page(page)[1] for page in sample]
    return {
        "full_seconds": full.seconds,
        "full_max_rss": full.max_rss,
        "full": full_data,
        "nothing_new_seconds": nothing.seconds,
        "nothing_new_written": nothing_data["written"],
        "incremental_seconds": incremental.seconds,
        "incremental_written": incremental_data["written"],
        "incremental": incremental_data,
        "incremental_with_search_seconds": with_search.seconds,
        "incremental_with_search": with_search_data,
        "identical_to_mkdocs": same,
        "post_page_bytes_avg": sum(sizes) / len(sizes) if sizes else 0.0,
        "slim_post_page_bytes_avg": _mean([s["sprite"] for s in slim]),
        "slim_no_drawer_nav_bytes_avg": _mean([s["simple_nav"] for s in slim]),
        "collapsed_only_bytes_avg": _mean([s["collapsed"] for s in slim]),
        "breakdown": page_breakdown(sample[0]) if sample else {},
    }


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def compare_with_mkdocs(shell_site: Path, mkdocs_site: Path, limit: int = 300) -> dict[str, Any]:
    """How many pages the shell renders exactly as mkdocs did (whitespace aside)."""
    pages = sorted((shell_site / "beitrag").rglob("index.html"))[:limit]
    pages += [shell_site / "index.html"]
    equal, differ = 0, []
    for page in pages:
        other = mkdocs_site / page.relative_to(shell_site)
        if not other.exists():
            differ.append(str(page.relative_to(shell_site)) + " (missing in mkdocs' site)")
            continue
        if _normal(page.read_text("utf-8")) == _normal(other.read_text("utf-8")):
            equal += 1
        else:
            differ.append(str(page.relative_to(shell_site)))
    return {"compared": len(pages), "identical": equal, "examples_differing": differ[:5]}


def _normal(page: str) -> str:
    return " ".join(page.split())


def _add_synthetic_posts(archive: Any, count: int, rng: Any) -> None:
    """``count`` posts newer than all, saved as a fetch saves them (the demo server is gone)."""
    from datetime import datetime, timedelta

    from .generator import ACCOUNTS, PoolImage, _post

    posts = list(archive.iter_posts())
    moment = datetime.fromisoformat(max(p.published for p in posts)) + timedelta(minutes=10)
    pool = [
        PoolImage(m.variants, m.width or 1600, m.height or 1200, m.sha256, 0)
        for p in posts[:500]
        for m in p.media
        if m.variants
    ][:5]
    for number in range(count):
        post = _post(rng, ACCOUNTS[number % 3], 10_000_000 + number, 0, moment, None, pool)
        archive.save_post(post, {"id": post.native_id, "synthetic": True})
        moment += timedelta(minutes=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fetch.bench.shell_render")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--slim", action="store_true", help="shell without indentation")
    parser.add_argument("--search", action="store_true", help="run pagefind over the pages")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(
        json.dumps(
            render_shell_site(
                config,
                args.site.resolve(),
                args.state.resolve(),
                slim=args.slim,
                search=args.search,
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
