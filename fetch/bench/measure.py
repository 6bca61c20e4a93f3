"""What the benchmark measures, from processes and files: times, peak memory, bytes.

- ``run_child`` runs one command and returns its wall time and its peak resident memory, read
  with ``os.wait4``: Linux reports the larger of the child's own peak and that of any process
  it waited for (mkdocs, pagefind, ...), so each measurement stands alone, unlike
  ``getrusage(RUSAGE_CHILDREN)``, which keeps the largest child of the whole benchmark.
- ``site_sizes``, ``home_page_bytes`` and ``search_bytes`` read the built site from disk. Bytes
  "on the wire" are gzip-compressed for text files (GitHub Pages and every common web server
  compress HTML, CSS, JS, JSON and SVG) and as stored for everything else.
"""

from __future__ import annotations

import gzip
import http.server
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

PAGES_LIMIT = 1_000_000_000  # GitHub Pages: "published sites may be no larger than 1 GB"
TEXT_SUFFIXES = frozenset({".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"})
COLUMN_WIDTH = 640  # CSS pixels of the content column a reader's browser fills on a desktop


@dataclass
class ChildResult:
    seconds: float
    max_rss: int  # bytes
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = 15) -> str:
        return "\n".join((self.stderr or self.stdout).strip().splitlines()[-lines:])


def run_child(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> ChildResult:
    """Run ``command``; wall seconds and peak RSS (of it or any process it waited for)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.monotonic() - started > timeout:
                os.killpg(process.pid, signal.SIGKILL)  # the group we started, by its id
                pid, status, usage = os.wait4(process.pid, 0)
                timed_out = True
                break
            time.sleep(0.02)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        out.seek(0)
        err.seek(0)
        return ChildResult(
            seconds=seconds,
            max_rss=usage.ru_maxrss * 1024,  # Linux reports kilobytes
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=timed_out,
        )


def gzip_size(path: Path) -> int:
    data = path.read_bytes()
    if path.suffix not in TEXT_SUFFIXES:
        return len(data)
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def tree_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) of everything under ``folder``."""
    files = total = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            files += 1
            total += os.stat(os.path.join(root, name)).st_size
    return files, total


def site_sizes(site_dir: Path, posts_dir: str = "beitrag") -> dict[str, Any]:
    """HTML per post, the whole site and its media against the GitHub Pages limit."""
    html_files = html_bytes = post_pages = post_bytes = 0
    for root, _dirs, names in os.walk(site_dir):
        for name in names:
            if not name.endswith(".html"):
                continue
            size = os.stat(os.path.join(root, name)).st_size
            html_files += 1
            html_bytes += size
            relative = os.path.relpath(root, site_dir)
            if relative.split(os.sep)[0] == posts_dir and name == "index.html":
                post_pages += 1
                post_bytes += size
    files, total = tree_size(site_dir)
    media_files, media_bytes = (
        tree_size(site_dir / "media") if (site_dir / "media").is_dir() else (0, 0)
    )
    return {
        "html_files": html_files,
        "html_bytes": html_bytes,
        "post_pages": post_pages,
        "post_page_bytes_avg": post_bytes / post_pages if post_pages else 0.0,
        "site_files": files,
        "site_bytes": total,
        "media_files": media_files,
        "media_bytes": media_bytes,
        "site_bytes_without_media": total - media_bytes,
        "pages_limit_share": total / PAGES_LIMIT,
    }


def media_bytes_per_image(site_dir: Path) -> dict[str, float]:
    """Stored bytes of one image, all its variants together (files ``<hash>-<width>.webp``).

    Variants of one image are told apart from other images by their position: the media stage
    names each file by its own hash, so the grouping comes from the posts' pages: every
    ``srcset`` lists the variants of one image.
    """
    groups: dict[str, int] = {}
    pattern = re.compile(r'srcset="([^"]+)"')
    for page in (
        (site_dir / "beitrag").rglob("index.html") if (site_dir / "beitrag").is_dir() else []
    ):
        for match in pattern.finditer(page.read_text(encoding="utf-8")):
            urls = tuple(sorted(part.strip().split(" ")[0] for part in match.group(1).split(",")))
            key = "|".join(u.rsplit("media/", 1)[-1] for u in urls)
            if key in groups:
                continue
            groups[key] = sum(
                (site_dir / "media" / name).stat().st_size
                for name in key.split("|")
                if (site_dir / "media" / name).exists()
            )
        if len(groups) >= 400:
            break
    sizes = sorted(groups.values())
    if not sizes:
        return {"images": 0, "mean": 0.0, "median": 0.0}
    return {
        "images": len(sizes),
        "mean": sum(sizes) / len(sizes),
        "median": float(sizes[len(sizes) // 2]),
    }


class _Resources(HTMLParser):
    """Stylesheets, scripts, icons and images a browser loads for a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (kind, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "link" and values.get("href"):
            rel = values.get("rel", "").split()
            if "stylesheet" in rel or "icon" in rel or "manifest" in rel or "preload" in rel:
                self.urls.append(("css" if "stylesheet" in rel else "other", values["href"]))
        elif tag == "script" and values.get("src"):
            self.urls.append(("js", values["src"]))
        elif tag == "img":
            self.urls.append(("image", _pick_from_srcset(values)))


def _pick_from_srcset(values: dict[str, str]) -> str:
    """The candidate a browser picks for a ``COLUMN_WIDTH`` column at 1x: the smallest that fits."""
    candidates = []
    for part in values.get("srcset", "").split(","):
        bits = part.split()
        if len(bits) == 2 and bits[1].endswith("w"):
            candidates.append((int(bits[1][:-1]), bits[0]))
    if not candidates:
        return values.get("src", "")
    candidates.sort()
    for width, url in candidates:
        if width >= COLUMN_WIDTH:
            return url
    return candidates[-1][1]


def home_page_bytes(site_dir: Path) -> dict[str, Any]:
    """What a reader downloads for the home page: HTML, CSS, JS, icon and page-1 images.

    Every image of the first page counts (the ones far below would be lazy-loaded later), so
    this is what reading the whole first page costs. Resources on other origins are counted
    separately: there must be none.
    """
    page = site_dir / "index.html"
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    raw = page.stat().st_size
    wire = gzip_size(page)
    parts: dict[str, int] = {"html": wire}
    external = []
    seen: set[Path] = set()
    for kind, url in parser.urls:
        split = urlsplit(url)
        if split.scheme or split.netloc:
            external.append(url)
            continue
        if url.startswith("data:") or not split.path:
            continue
        target = (page.parent / unquote(split.path)).resolve()
        if target in seen or not target.is_file():
            continue
        seen.add(target)
        raw += target.stat().st_size
        size = gzip_size(target)
        wire += size
        parts[kind] = parts.get(kind, 0) + size
    return {"raw_bytes": raw, "wire_bytes": wire, "parts": parts, "external": external}


def search_bytes(site_dir: Path, query: str = "Baustelle", scope: str = "") -> dict[str, Any]:
    """Bytes of one search, for whichever search the built site has.

    - Our search page (``suche/`` over ``pagefind/<year>/``): the page itself runs the query
      in headless Chromium, as a reader's browser does, with ``scope`` as its "zeitraum" (""
      the default, the newest years; "alle" every year); every file under ``pagefind/`` it
      fetched (script, worker, WebAssembly, entries, meta, index chunks, the first page of
      result fragments) and ``suche.js`` are summed from disk.
    - Material's built-in search (``search/search_index.json``): the whole index, the search
      worker and its lunr language files are loaded before the first result.
    """
    if (site_dir / "suche" / "index.html").is_file() and any(
        (site_dir / "pagefind").glob("*/pagefind-entry.json")
    ):
        return _search_page(site_dir, query, scope)
    index = site_dir / "search" / "search_index.json"
    if index.is_file():
        files = [index]
        files += sorted((site_dir / "assets" / "javascripts" / "workers").glob("search.*.js"))
        lunr = site_dir / "assets" / "javascripts" / "lunr" / "min"
        files += [p for p in (lunr / "lunr.stemmer.support.min.js", lunr / "lunr.de.min.js")]
        files = [f for f in files if f.is_file()]
        return {
            "kind": "material search_index.json",
            "raw_bytes": sum(f.stat().st_size for f in files),
            "wire_bytes": sum(gzip_size(f) for f in files),
            "index_bytes": index.stat().st_size,
            "files": len(files),
        }
    return {"kind": "none found", "raw_bytes": 0, "wire_bytes": 0, "files": 0}


def _search_page(site_dir: Path, query: str, scope: str) -> dict[str, Any]:
    import contextlib
    import functools
    import re
    import threading
    from urllib.parse import quote

    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    address = f"{base}/suche/?q={quote(query)}" + (f"&zeitraum={scope}" if scope else "")
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium())
            try:
                page = browser.new_page()
                # pagefind fetches from a Web Worker: Playwright sees those requests too
                requested: list[str] = []
                page.on("request", lambda request: requested.append(request.url))
                page.goto(address)
                status = page.locator("#aushang-search-status")
                status.filter(has_text=re.compile("gefunden|found")).wait_for(timeout=120_000)
                page.wait_for_load_state("networkidle")
                results = page.locator(".aushang-search__result").count()
                said = status.inner_text()
            finally:
                browser.close()
    except Exception as exc:  # no browser here: say so rather than guess a number
        return {
            "kind": "pagefind",
            "error": f"query failed: {exc}",
            "raw_bytes": 0,
            "wire_bytes": 0,
        }
    finally:
        with contextlib.suppress(Exception):
            server.shutdown()
            server.server_close()
    paths = []
    for url in requested:
        path = unquote(urlsplit(url).path)
        if path.startswith("/pagefind/") or path.endswith("/suche.js"):
            paths.append(site_dir / path.lstrip("/"))
    files = [p for p in dict.fromkeys(paths) if p.is_file()]
    years = sorted(
        {p.relative_to(site_dir / "pagefind").parts[0] for p in files if "pagefind" in p.parts}
    )
    return {
        "kind": "pagefind",
        "query": query,
        "scope": scope or "newest years",
        "years": years,
        "status": said,
        "results_shown": results,
        "raw_bytes": sum(f.stat().st_size for f in files),
        "wire_bytes": sum(gzip_size(f) for f in files),
        "files": len(files),
    }


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    raise FileNotFoundError("no Chromium found at /usr/bin/chromium")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def media_index_snapshot(media_dir: Path) -> dict[str, int]:
    """{index file: mtime}: one index entry is written per ``process_image`` call."""
    index = media_dir / "index"
    if not index.is_dir():
        return {}
    return {str(p): p.stat().st_mtime_ns for p in index.rglob("*.json")}


def decodes_between(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(1 for path, mtime in after.items() if before.get(path) != mtime)
