"""The site's search index: pagefind, run over the built post pages after mkdocs.

Why pagefind and not the theme's search: mkdocs-material's index is one JSON file every reader
downloads before the first result, and it grows with the archive. Pagefind
(https://pagefind.app/) splits the index into chunks by word and loads only the chunks and
result fragments a query needs. Measured with ``python -m fetch.bench`` in headless Chromium
on the page "Suche" (one query, first visit, bytes as served; pagefind's index files are
compressed already): 192 KB at 1,000 posts; 289 KB at 20,000 and 283 KB at 100,000 for the
default scope (the newest two years), 418 KB and 1.25 MB for all years. Material's search
index was 168 MB at 20,000 posts, loaded whole before the first result. Of pagefind's bytes,
170 KB are fixed (its script, worker and WebAssembly); each year searched adds its page list
(``pf_meta``, about 6.5 bytes a post) and the word chunks a query touches.
``pytest -s tests/test_site_search.py`` prints the demo's numbers.

**One bundle per year** (``pagefind/<year>/``). Pagefind's page list grows with every post and
a search loads it whole (about 6.5 bytes a post, 650 KB at 100,000 posts), and pagefind
re-indexes everything it is given. So the post pages of each year (by the month the listings
file the post under) are indexed on their own: a run with new posts re-indexes only the years
whose pages changed (``Catalog.search`` holds a digest of each year's pages), and a reader's
search loads only the years it asks for. The search page offers the newest
``RECENT_YEARS`` years by default, each single year, and all years; ``suche.js`` makes the
newest year of the scope pagefind's primary index and merges the others (``mergeIndex``),
which share the primary's WebAssembly. For each year, the year's post pages are hard-linked
(copied where links fail) into ``build/search-src/<year>/`` beside their site paths, so the
result URLs are the site's.

The search page (``suche/``) runs our own small script, ``docs/javascripts/suche.js``, which
loads ``pagefind/<year>/pagefind.js`` from this site: nothing external, no inline script.
Pagefind runs WebAssembly, so a Content-Security-Policy on the search page must allow
``'wasm-unsafe-eval'`` in ``script-src``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import AushangError

BUNDLE_DIR = "pagefind"
NEW_SUFFIX = ".neu"
POST_PAGES_GLOB = "beitrag/**/*.html"
SOURCE_DIR = "search-src"  # under the build folder: each year's pages, linked
RECENT_YEARS = 2  # the search page's default scope: this year and the last
# Words a screen reader hears but a result excerpt should not show: the visually hidden
# helper texts, the host labels beside links, the "Bildbeschreibung fehlt" notes.
EXCLUDED = ".aushang-visually-hidden, .aushang-host, .aushang-media__alt--missing"
# Pagefind also writes its ready-made search interfaces; the site uses its own small one
# (docs/javascripts/suche.js), so these are removed rather than published unused.
UNUSED_BUNDLE_FILES = (
    "pagefind-ui.js",
    "pagefind-ui.css",
    "pagefind-modular-ui.js",
    "pagefind-modular-ui.css",
    "pagefind-component-ui.js",
    "pagefind-component-ui.css",
    "pagefind-highlight.js",
)


class SearchIndexError(AushangError):
    pass


@dataclass(frozen=True)
class SearchIndexReport:
    pages: int  # indexed in this run
    files: int  # of the whole search folder
    bytes: int
    years: tuple[str, ...] = ()  # the bundles indexed in this run


def year_digest(pages: dict[str, str]) -> str:
    """What a year's bundle is made of: its post pages' paths and the digests of their HTML."""
    digest = hashlib.sha256()
    for path in sorted(pages):
        digest.update(f"{path}\0{pages[path]}\n".encode())
    return digest.hexdigest()[:32]


def build_search_indexes(
    site_dir: Path,
    build_dir: Path,
    language: str,
    years: dict[str, dict[str, str]],
    previous: dict[str, str],
) -> tuple[SearchIndexReport | None, dict[str, str]]:
    """Bring ``site_dir/pagefind/<year>/`` up to date with ``years`` ({year: {post page path:
    digest}}). A year is indexed again when its pages' digest differs from ``previous`` or
    its bundle is missing; bundles of years without posts, and anything else in the search
    folder, are removed. Returns the report (None when nothing was indexed) and the digests
    to remember."""
    root = site_dir / BUNDLE_DIR
    digests = {year: year_digest(pages) for year, pages in years.items()}
    stale = sorted(
        (
            year
            for year in years
            if previous.get(year) != digests[year]
            or not (root / year / "pagefind-entry.json").is_file()
        ),
        reverse=True,
    )
    if root.is_dir():
        for child in root.iterdir():
            if child.name not in years:
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
    indexed = 0
    for year in stale:
        indexed += _index_year(
            site_dir, build_dir / SOURCE_DIR / year, root / year, language, years[year]
        )
    if not stale:
        return None, digests
    files = [p for p in root.rglob("*") if p.is_file()]
    report = SearchIndexReport(
        pages=indexed,
        files=len(files),
        bytes=sum(p.stat().st_size for p in files),
        years=tuple(stale),
    )
    return report, digests


def _index_year(
    site_dir: Path, source: Path, bundle: Path, language: str, pages: dict[str, str]
) -> int:
    shutil.rmtree(source, ignore_errors=True)
    for relative in pages:
        target = source / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(site_dir / relative, target)
        except OSError:
            shutil.copyfile(site_dir / relative, target)
    fresh = bundle.with_name(bundle.name + NEW_SUFFIX)
    shutil.rmtree(fresh, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pagefind_bin",
        "--site",
        str(source),
        "--glob",
        POST_PAGES_GLOB,
        "--output-path",
        str(fresh),
        "--force-language",
        language,
        "--exclude-selectors",
        EXCLUDED,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchIndexError(f"pagefind could not run ({exc})") from exc
    finally:
        shutil.rmtree(source, ignore_errors=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-2000:]
        raise SearchIndexError(
            f"pagefind failed on {bundle.name} (exit {result.returncode}): {output}"
        )
    # pagefind writes into a fresh folder, which then replaces the old bundle: files of the
    # old index (a deleted post's fragment) must not outlive it.
    shutil.rmtree(bundle, ignore_errors=True)
    fresh.rename(bundle)
    for name in UNUSED_BUNDLE_FILES:
        (bundle / name).unlink(missing_ok=True)
    return _indexed_pages(result.stdout)


def _indexed_pages(output: str) -> int:
    """Pagefind prints 'Indexed N pages'; 0 when the line is missing."""
    for line in output.splitlines():
        words = line.strip().split()
        if len(words) >= 3 and words[0] == "Indexed" and words[2].startswith("page"):
            try:
                return int(words[1])
            except ValueError:
                return 0
    return 0
