"""The build measures the site by kind and warns well before it outgrows its host's limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fetch.site.hosting import SizeReport, site_size, size_warning


def write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small built site: pages, feeds, pagefind's index, theme files and media."""
    root = tmp_path / "site"
    write(root / "index.html", 1_000)
    write(root / "beitrag" / "stadt" / "1" / "index.html", 2_000)
    write(root / "feed" / "rss.xml", 300)
    write(root / "feed" / "konto" / "stadt.rss.xml", 200)
    write(root / "pagefind" / "pagefind.js", 400)
    write(root / "pagefind" / "fragment" / "de_1.pf_fragment", 100)
    write(root / "assets" / "stylesheets" / "main.css", 50)
    write(root / "sitemap.xml", 25)
    write(root / "media" / "ab" / "ab12-480.webp", 10_000)
    write(root / "media" / "cd" / "cd34-960.webp", 20_000)
    return root


def test_the_site_is_measured_by_kind(site: Path) -> None:
    """HTML, feeds, the search index, media and the rest are told apart and add up."""
    report = site_size(site)

    assert (report.html, report.feeds, report.search, report.media, report.other) == (
        3_000,
        500,
        500,
        30_000,
        75,
    )
    assert report.total == report.site == 34_075
    assert (report.files, report.media_files, report.media_inside) == (10, 2, True)
    assert report.parts()[0] == ("media", 30_000)


def test_a_hard_linked_file_is_counted_once(site: Path, tmp_path: Path) -> None:
    """Media hard-linked from the archive, or twice within the site, count once (by inode)."""
    archive_file = write(tmp_path / "archive" / "media" / "ef" / "ef56-480.webp", 5_000)
    (site / "media" / "ef").mkdir()
    os.link(archive_file, site / "media" / "ef" / "ef56-480.webp")
    os.link(site / "media" / "ab" / "ab12-480.webp", site / "media" / "ab" / "copy-480.webp")

    report = site_size(site)

    assert report.media == 35_000 and report.media_files == 3
    assert report.site == 39_075


def test_media_published_from_their_own_folder_do_not_count_towards_the_site(
    site: Path, tmp_path: Path
) -> None:
    """With site.media_url the media live elsewhere: measured, but not part of the host's limit."""
    elsewhere = tmp_path / "medien"
    (site / "media").rename(elsewhere)

    report = site_size(site, elsewhere)

    assert report.media == 30_000 and not report.media_inside
    assert report.site == 4_075 and report.total == 34_075
    assert "media" not in dict(report.parts())


def test_a_media_folder_inside_the_site_is_not_counted_twice(site: Path) -> None:
    """Naming site/media explicitly, even by another spelling of its path, changes nothing."""
    assert site_size(site, site / "beitrag" / ".." / "media") == site_size(site)


def test_a_missing_site_is_empty(tmp_path: Path) -> None:
    assert site_size(tmp_path / "nothing") == SizeReport(media_inside=True)


def test_no_warning_below_the_threshold() -> None:
    report = SizeReport(html=300_000_000, media=400_000_000, site=700_000_000)
    assert size_warning(report, limit_mb=1000, warn_percent=80) is None


def test_the_warning_names_the_largest_part_and_the_way_out() -> None:
    """At 80 % of GitHub Pages' 1 GB: how full, what is largest, site.media_url, the docs."""
    report = SizeReport(
        html=200_000_000, feeds=1_000_000, search=40_000_000, media=600_000_000, site=841_000_000
    )

    message = size_warning(report, limit_mb=1000, warn_percent=80)

    assert message is not None
    assert "841.0 MB" in message and "84 %" in message and "1,000.0 MB" in message
    assert message.index("media 600.0 MB") < message.index("HTML pages 200.0 MB")
    assert "site.media_url" in message and "docs/betrieb/medien.md" in message
    assert "over" not in message


def test_over_the_limit_the_warning_says_the_host_may_refuse_the_site() -> None:
    report = SizeReport(html=300_000_000, media=900_000_000, site=1_200_000_000)

    message = size_warning(report, limit_mb=1000, warn_percent=80)

    assert message is not None
    assert "over the host's limit" in message and "may refuse" in message
    assert "120 %" in message and "docs/betrieb/medien.md" in message


def test_with_media_elsewhere_the_warning_names_the_pages(site: Path, tmp_path: Path) -> None:
    """When the pages alone fill the host, moving media is no advice: the docs page is."""
    elsewhere = tmp_path / "medien"
    (site / "media").rename(elsewhere)
    report = site_size(site, elsewhere)

    message = size_warning(report, limit_mb=0.004, warn_percent=80)

    assert message is not None
    assert "largest part is the HTML pages" in message and "docs/betrieb/medien.md" in message
    assert "site.media_url" not in message and "media" not in message.split("Largest")[1]


@pytest.mark.parametrize(("limit", "percent"), [(0, 80), (1000, 0), (1000, 101)])
def test_a_nonsense_limit_is_refused(limit: float, percent: float) -> None:
    with pytest.raises(ValueError):
        size_warning(SizeReport(), limit_mb=limit, warn_percent=percent)
