"""How large the built site is, and a warning well before it outgrows its host.

A static host limits the size of a site: GitHub Pages publishes at most 1 GB ("Published GitHub
Pages sites may be no larger than 1 GB",
https://docs.github.com/en/pages/getting-started-with-github-pages/github-pages-limits).
An archive only grows, and its media grow fastest: ten years of a large city's posts hold tens
of thousands of photos. So every build measures the site with :func:`site_size` and logs
:func:`size_warning` when it passes ``site.size_warn_percent`` of ``site.size_limit_mb``, while
there is still time to publish the media on the city's own server (``site.media_url``;
``docs/betrieb/medien.md`` says how).

The count is of bytes as stored, each file once: the media in ``site/media`` are hard links to
the archive's files, and a file reached by two paths (two links to one inode) is counted once.
A host may count differently (GitHub's upload action packs a hard link as a full copy, and
hosts round up to their block size), which is one reason to warn at 80 % and not at 100 %.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .search import BUNDLE_DIR

MEDIA_DIR: Final = "media"
FEED_DIR: Final = "feed"
# The search index: pagefind's bundle; "search" is mkdocs-material's own index, were it enabled.
SEARCH_DIRS: Final = (BUNDLE_DIR, "search")
HTML_SUFFIXES: Final = (".html", ".htm")
DOCS_PAGE: Final = "docs/betrieb/medien.md"
MEGABYTE: Final = 1_000_000  # as hosts state their limits: 1 GB = 1000 MB


@dataclass(frozen=True)
class SizeReport:
    """Bytes of a built site by kind, each file counted once (hard links by inode).

    ``html``, ``feeds``, ``search``, ``media`` and ``other`` (theme assets, stylesheets, scripts,
    sitemaps) add up to ``total``. ``site`` is the part of ``total`` inside the site folder, what
    the pages' host holds: without the media when they are published from a folder of their own.
    """

    html: int = 0
    feeds: int = 0
    search: int = 0
    media: int = 0
    other: int = 0
    site: int = 0
    files: int = 0
    media_files: int = 0
    media_inside: bool = True  # the media are part of the site folder, so of its host's limit

    @property
    def total(self) -> int:
        return self.html + self.feeds + self.search + self.media + self.other

    def parts(self) -> list[tuple[str, int]]:
        """(kind, bytes), largest first; only the kinds the pages' host holds."""
        parts = [
            ("HTML pages", self.html),
            ("feeds", self.feeds),
            ("search index", self.search),
            ("other files", self.other),
        ]
        if self.media_inside:
            parts.append(("media", self.media))
        return sorted(parts, key=lambda part: (-part[1], part[0]))


def site_size(site_dir: Path, media_dir: Path | None = None) -> SizeReport:
    """Measure the built site in ``site_dir``; its media are in ``media_dir``.

    ``media_dir`` defaults to ``site_dir/media``. When it lies outside ``site_dir`` (media
    published on their own host), its files count as media but not towards ``site``. Symbolic
    links to folders are not followed; a missing folder counts as empty.
    """
    site_dir = Path(site_dir)
    media_dir = Path(media_dir) if media_dir is not None else site_dir / MEDIA_DIR
    media_inside = _is_within(media_dir, site_dir)
    seen: set[tuple[int, int]] = set()
    sizes = {"html": 0, "feeds": 0, "search": 0, "media": 0, "other": 0}
    site_bytes = files = media_files = 0

    for _path, size in _files(media_dir, seen):
        sizes["media"] += size
        media_files += 1
        files += 1
        if media_inside:
            site_bytes += size
    for relative, size in _files(site_dir, seen, skip=media_dir if media_inside else None):
        sizes[_kind(relative)] += size
        site_bytes += size
        files += 1
    return SizeReport(
        **sizes,
        site=site_bytes,
        files=files,
        media_files=media_files,
        media_inside=media_inside,
    )


def size_warning(report: SizeReport, limit_mb: float, warn_percent: float) -> str | None:
    """A log message when the site passes ``warn_percent`` of the host's ``limit_mb``, else None.

    Over the limit the message says that the host may refuse the site; below it, how much room
    is left. Both name the largest parts and what to do about them.
    """
    if limit_mb <= 0 or not 0 < warn_percent <= 100:
        raise ValueError(f"need a positive limit and a percentage, not {limit_mb}, {warn_percent}")
    limit = limit_mb * MEGABYTE
    used = report.site / limit * 100
    if used < warn_percent:
        return None
    parts = ", ".join(f"{name} {_mb(size)}" for name, size in report.parts() if size)
    largest = report.parts()[0][0]
    if report.media_inside and largest == "media":
        advice = (
            "publish the media on the city's own server or an S3-compatible bucket and set "
            f"site.media_url (see {DOCS_PAGE})"
        )
    else:
        advice = f"see {DOCS_PAGE}: the largest part is the {largest}"
    if used > 100:
        return (
            f"The built site is {_mb(report.site)}, over the host's limit of {_mb(limit)} "
            f"(site.size_limit_mb) at {used:.0f} %: the host may refuse to publish it. "
            f"Largest parts: {parts}. To get under the limit, {advice}."
        )
    return (
        f"The built site is {_mb(report.site)}, {used:.0f} % of the host's limit of "
        f"{_mb(limit)} (site.size_limit_mb; this warning starts at {warn_percent:g} %, "
        f"site.size_warn_percent). Largest parts: {parts}. Before the archive outgrows its "
        f"host, {advice}."
    )


def _files(
    folder: Path, seen: set[tuple[int, int]], skip: Path | None = None
) -> list[tuple[str, int]]:
    """Regular files below ``folder`` (not below ``skip``) as (path relative to ``folder``,
    size), each inode once. Plain strings and ``os.scandir``: a site has tens of thousands of
    files, and this runs on every build that changed posts."""
    found: list[tuple[str, int]] = []
    skipped = str(skip.resolve()) if skip is not None else None
    skipped_inode = os.stat(skipped).st_ino if skipped and os.path.isdir(skipped) else None
    pending = [("", str(folder))]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue  # missing, or removed while we count
        for entry in entries:
            relative = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    # the inode number is free (no system call); the path decides
                    if entry.inode() != skipped_inode or os.path.realpath(entry.path) != skipped:
                        pending.append((relative + "/", entry.path))
                    continue
                status = entry.stat()
            except OSError:
                continue  # a dangling symbolic link, or a file removed while we count
            identity = (status.st_dev, status.st_ino)
            if identity in seen or not stat.S_ISREG(status.st_mode):
                continue
            seen.add(identity)
            found.append((relative, status.st_size))
    return found


def _kind(relative: str) -> str:
    top, slash, _rest = relative.partition("/")
    if slash and top == FEED_DIR:
        return "feeds"
    if slash and top in SEARCH_DIRS:
        return "search"
    if os.path.splitext(relative)[1].lower() in HTML_SUFFIXES:
        return "html"
    return "other"


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _mb(size: float) -> str:
    return f"{size / MEGABYTE:,.1f} MB"
