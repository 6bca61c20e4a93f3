"""The scale benchmark (``make bench``) runs end to end on a tiny archive and fills its table.

Only that it works and what it counts are checked here, never how fast anything was: the
figures themselves come from ``python -m fetch.bench`` on the sizes of issue 8.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fetch.bench.__main__ import table_rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, "-m", "fetch.bench", "--sizes", "50", "--out", str(out)]
        + ["--pool-size", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "bench.md").read_text(encoding="utf-8") in result.stdout
    data: dict[str, object] = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    return data


def test_every_column_of_every_table_has_a_number(bench: dict[str, object]) -> None:
    """Each cell of the main and the comparison table holds a figure for the one size."""
    tables = table_rows(bench)
    for name in ("main", "compare"):
        assert len(tables[name]) == 1, name
    for name in ("main",):
        for column, cell in tables[name][0].items():
            assert re.search(r"\d", cell), f"{name}: {column} = {cell!r}"
    compare = tables["compare"][0]
    for column in ("Aushang-Build s", "Maßstab 1 Prozess s", "Maßstab 2 Prozesse s"):
        assert re.search(r"\d", compare[column]), column
    assert re.search(r"\d", compare["Blog-Plugin s"])  # 50 posts are below the blog's time box
    assert re.search(r"\d|nicht installiert", compare["Zensical s"])


def test_the_figures_are_measured_not_placeholders(bench: dict[str, object]) -> None:
    """Build time and memory from the child process, sizes from the written site."""
    (row,) = bench["sizes"]  # type: ignore[misc]
    assert row["posts"] == 50
    assert row["archive"]["posts"] == 50 and row["archive"]["platforms"] >= 5
    assert row["cold_build"]["seconds"] > 0 and row["cold_build"]["max_rss"] > 10_000_000
    assert row["site"]["post_pages"] >= 50  # the synthetic posts and the demo server's
    assert row["site"]["post_page_bytes_avg"] > 1_000
    assert row["media_per_image"]["images"] >= 1 and row["media_per_image"]["mean"] > 0
    assert row["home"]["wire_bytes"] > row["home"]["parts"]["html"] > 0
    assert row["home"]["external"] == []
    assert row["search"]["kind"] != "none found" and row["search"]["wire_bytes"] > 0
    assert row["yardstick_1p"]["pages"] == row["yardstick_2p"]["pages"] > 50


def test_hourly_runs_count_the_images_they_decode(bench: dict[str, object]) -> None:
    """Nothing new decodes no image; five new posts (three with a photo) decode three."""
    (row,) = bench["sizes"]  # type: ignore[misc]
    assert row["hourly_nothing_new"]["images_decoded"] == 0
    assert row["hourly_5_new"]["images_decoded"] == 3


def test_the_yardstick_gets_every_generated_page(bench: dict[str, object]) -> None:
    """The pages handed to the yardstick are the site's: as many as the build generated."""
    (row,) = bench["sizes"]  # type: ignore[misc]
    assert row["yardstick_1p"]["pages"] >= row["site"]["post_pages"]
