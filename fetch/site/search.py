"""The site's search index: pagefind, run over the built post pages after mkdocs.

Why pagefind and not the theme's search: mkdocs-material's index is one JSON file every reader
downloads before the first result, and it grows with the archive. Pagefind
(https://pagefind.app/) splits the index into chunks by word and loads only the chunks and
result fragments a query needs. Measured in headless Chromium on the page "Suche" (one query,
first visit, bytes as served; pagefind's index files are compressed already):

=====================  ==================================  ===================================
archive                pagefind (this module)              material's search plugin
=====================  ==================================  ===================================
demo, 85 posts         190 KB (125 KB gzip), 16 requests   search_index.json 490 KB (100 KB
                                                           gzip) + worker and lunr scripts
20,000 posts           365 KB (300 KB gzip), 14-18 req.    search_index.json 168 MB (29 MB
                                                           gzip); its post pages alone 22.8 MB
=====================  ==================================  ===================================

Of pagefind's bytes, 170 KB are fixed (its script, worker and WebAssembly); what grows is the
page list (``pf_meta``, 130 KB at 20,000 posts, about 6.5 bytes a post) and the word chunks a
query touches (60-80 KB). ``pytest -s tests/test_site_search.py`` prints the demo's numbers;
``make bench`` (``fetch.bench``) measures a search on synthetic archives of any size.

Only post pages are indexed (``--glob beitrag/**/*.html``), and on them only the post's own
``<article data-pagefind-body>``; the theme's navigation, header and footer never match. The
site's language is forced for stemming, whatever language single posts are in.

The search page (``suche/``) runs our own small script, ``docs/javascripts/suche.js``, which
loads ``pagefind/pagefind.js`` from this site: nothing external, no inline script. Pagefind
runs WebAssembly, so a Content-Security-Policy on the search page must allow
``'wasm-unsafe-eval'`` in ``script-src``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import AushangError

BUNDLE_DIR = "pagefind"
NEW_SUFFIX = ".neu"
POST_PAGES_GLOB = "beitrag/**/*.html"
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
    pages: int
    files: int
    bytes: int


def build_search_index(site_dir: Path, language: str) -> SearchIndexReport:
    """Index the post pages of ``site_dir`` into ``site_dir/pagefind``."""
    command = [
        sys.executable,
        "-m",
        "pagefind_bin",
        "--site",
        str(site_dir),
        "--glob",
        POST_PAGES_GLOB,
        "--output-subdir",
        BUNDLE_DIR + NEW_SUFFIX,
        "--force-language",
        language,
        "--exclude-selectors",
        EXCLUDED,
    ]
    shutil.rmtree(site_dir / (BUNDLE_DIR + NEW_SUFFIX), ignore_errors=True)
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchIndexError(f"pagefind could not run ({exc})") from exc
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-2000:]
        raise SearchIndexError(f"pagefind failed (exit {result.returncode}): {output}")
    pages = _indexed_pages(result.stdout)
    # pagefind writes into a fresh folder, which then replaces the old bundle: files of the
    # old index (a deleted post's fragment) must not outlive it.
    bundle = site_dir / BUNDLE_DIR
    shutil.rmtree(bundle, ignore_errors=True)
    (site_dir / (BUNDLE_DIR + NEW_SUFFIX)).rename(bundle)
    for name in UNUSED_BUNDLE_FILES:
        (bundle / name).unlink(missing_ok=True)
    files = [p for p in bundle.rglob("*") if p.is_file()]
    return SearchIndexReport(
        pages=pages, files=len(files), bytes=sum(p.stat().st_size for p in files)
    )


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
