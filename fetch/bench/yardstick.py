"""Yardsticks for the benchmark: what the same pages cost without mkdocs, and with the blog plugin.

``render_docs`` is the floor: the Markdown pages ``build_site`` generated (``build/docs``, the
very same files mkdocs reads) turned into HTML pages with python-markdown (the extensions of our
``mkdocs.yml``) and one small Jinja2 template, in one or more processes. No theme, no nav, no
search index: a ratio to it says how much the frame costs, and it survives a noisy machine
better than seconds do.

``write_blog_project`` makes the set-up a city would otherwise reach for: Material's blog
plugin, every post a ``docs/blog/posts/*.md`` with its ``date`` in the front matter.

Run as ``python -m fetch.bench.yardstick DOCS_DIR OUT_DIR [--processes N]``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ..archive import Archive, slug
from ..model import Post

TEMPLATE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{ title }} - {{ site_name }}</title>
<meta name="description" content="{{ description }}">
<link rel="stylesheet" href="{{ base }}stylesheets/aushang.css">
</head>
<body>
<header><a href="{{ base }}">{{ site_name }}</a></header>
<main>
{{ content }}
</main>
<footer><a href="{{ base }}about/">Über dieses Archiv</a></footer>
</body>
</html>
"""
EXTENSIONS = ["attr_list", "md_in_html", "toc"]
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            front = text[4:end]
            try:
                meta = yaml.load(front, Loader=_FAST_LOADER) or {}  # noqa: S506 (a safe loader)
            except yaml.YAMLError:  # libyaml refuses the JSON escapes of emoji (surrogate pairs)
                meta = yaml.safe_load(front) or {}
                meta = {k: _join_surrogates(v) for k, v in meta.items()}
            return (meta if isinstance(meta, dict) else {}), text[end + 5 :]
    return {}, text


def _join_surrogates(value: Any) -> Any:
    """PyYAML keeps the two halves of a JSON-escaped emoji apart; put them together."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16")
    return value


def output_path(relative: str) -> str:
    """Where mkdocs (use_directory_urls) puts the page for ``relative`` (a .md path)."""
    stem = relative[:-3]
    if stem == "index" or stem.endswith("/index"):
        return stem + ".html"
    return stem + "/index.html"


def _render_chunk(arguments: tuple[str, str, list[str]]) -> int:
    import jinja2
    import markdown  # type: ignore[import-untyped]

    docs, out, files = arguments
    docs_dir, out_dir = Path(docs), Path(out)
    template = jinja2.Environment(autoescape=False).from_string(TEMPLATE)  # noqa: S701 (the content is HTML)
    converter = markdown.Markdown(extensions=EXTENSIONS)
    written = 0
    for relative in files:
        meta, body = split_front_matter((docs_dir / relative).read_text(encoding="utf-8"))
        content = converter.reset().convert(body)
        target = output_path(relative)
        page = template.render(
            lang="de",
            title=meta.get("title", ""),
            description=meta.get("description", ""),
            site_name="Aushang",
            base="../" * target.count("/"),
            content=content,
        )
        path = out_dir / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        written += 1
    return written


def render_docs(docs_dir: Path, out_dir: Path, processes: int = 1) -> dict[str, Any]:
    started = time.monotonic()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    files = sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md"))
    if processes <= 1:
        pages = _render_chunk((str(docs_dir), str(out_dir), files))
    else:
        chunks = [files[i::processes] for i in range(processes)]
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pages = sum(pool.map(_render_chunk, [(str(docs_dir), str(out_dir), c) for c in chunks]))
    return {"pages": pages, "seconds": time.monotonic() - started, "processes": processes}


# -- Material's blog plugin -------------------------------------------------------------------
BLOG_MKDOCS = {
    "site_name": "Aushang (blog plugin)",
    "use_directory_urls": True,
    "theme": {"name": "material", "language": "de", "font": False},
    "plugins": [{"search": {"lang": "de"}}, {"blog": {"blog_dir": "blog"}}],
    "markdown_extensions": ["attr_list", "md_in_html", "toc"],
    "nav": [{"Start": "index.md"}, {"Beiträge": "blog/index.md"}],
}


def write_blog_project(archive_dir: Path, docs_dir: Path, folder: Path) -> int:
    """A Material blog of the archive: one ``blog/posts/*.md`` per post; returns the count.

    Each post's body is the post's own block from the page ``build_site`` generated
    (``docs_dir/beitrag/<account>/<slug>/index.md``), so both builds render the same HTML.
    """
    if folder.exists():
        shutil.rmtree(folder)
    posts_dir = folder / "docs" / "blog" / "posts"
    posts_dir.mkdir(parents=True)
    (folder / "docs" / "index.md").write_text("# Aushang\n", encoding="utf-8")
    (folder / "docs" / "blog" / "index.md").write_text("# Beiträge\n", encoding="utf-8")
    count = 0
    for post in Archive(archive_dir).iter_posts():
        generated = docs_dir / "beitrag" / post.account / slug(post.native_id) / "index.md"
        if not generated.is_file():
            continue
        meta, body = split_front_matter(generated.read_text(encoding="utf-8"))
        name = f"{post.account}-{slug(post.native_id)}"
        front = {
            "date": datetime.fromisoformat(post.published),  # a YAML timestamp, as the plugin wants
            "title": str(meta.get("title") or name),
            "slug": name,
            "categories": [_platform(post)],
        }
        (posts_dir / f"{name}.md").write_text(
            "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n\n" + body,
            encoding="utf-8",
        )
        count += 1
    (folder / "mkdocs.yml").write_text(
        yaml.safe_dump(
            {**BLOG_MKDOCS, "docs_dir": "docs", "site_dir": "site"},
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return count


def _platform(post: Post) -> str:
    return post.platform.capitalize()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fetch.bench.yardstick")
    parser.add_argument("docs", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(render_docs(args.docs, args.out, args.processes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
