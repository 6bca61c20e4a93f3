"""The public command line: every command has --help, errors exit non-zero with a clear
message, and `aushang demo --no-serve` builds the Musterstadt site from a fresh copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import copy_project

COMMANDS = ["fetch", "build", "demo", "clean-url", "sources"]


def aushang(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fetch.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(command: str | None) -> None:
    result = aushang(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: aushang" in result.stdout


def test_clean_url_prints_one_cleaned_url_per_argument() -> None:
    result = aushang(
        "clean-url",
        "https://www.musterstadt.de/a?utm_source=x&id=5",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.musterstadt.de%2Fb%3Ffbclid%3D1&h=AT0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "https://www.musterstadt.de/a?id=5",
        "https://www.musterstadt.de/b",
    ]


def test_sources_lists_every_platform_with_its_needs() -> None:
    from fetch.sources import registry

    result = aushang("sources")
    assert result.returncode == 0
    for source in registry.all_sources():
        assert source.name in result.stdout
        assert f"docs/{source.docs}" in result.stdout


def test_a_broken_config_exits_2_and_names_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "aushang.yml"
    config.write_text("city: X\naccounts:\n  - key: a\n    platform: nope\n", encoding="utf-8")
    result = aushang("--config", str(config), "fetch")
    assert result.returncode == 2
    assert f"{config}: accounts[0].platform: unknown platform 'nope'" in result.stderr


def test_demo_without_serving_builds_the_site_from_a_fresh_copy(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    result = aushang("--config", str(project / "aushang.yml"), "demo", "--no-serve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "built" in result.stdout
    site = project / "site"
    assert (site / "index.html").exists()
    assert list((site / "beitrag").glob("*/*/index.html"))
    assert (project / "demo" / "archive" / "posts").is_dir()
