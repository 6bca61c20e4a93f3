"""Shared fixtures: the demo server as the platforms' stand-in, configs pointing at it, and
one demo site built once per session for the site and browser tests."""

from __future__ import annotations

import logging
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fetch.config import Config, load_config
from fetch.demo.server import DemoServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


# The main Musterstadt account, for tests that need only one account.
STADT = {
    "key": "stadt",
    "platform": "mastodon",
    "instance": "musterstadt.social",
    "handle": "stadt",
}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``aushang``'s ``main()`` points the root logger at stderr; undo that after each test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never answers, like an overloaded
    platform: requests to it time out."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        yield silent.getsockname()[1]
    finally:
        silent.close()


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer() as demo:
        yield demo


def copy_project(target: Path) -> Path:
    """A copy of the parts of the project a city's site is built from."""
    for name in ("mkdocs.yml", "aushang.yml"):
        shutil.copy(ROOT / name, target / name)
    for name in ("docs", "overrides"):
        shutil.copytree(ROOT / name, target / name)
    return target


def write_config(
    folder: Path,
    server: DemoServer,
    *,
    accounts: list[dict[str, Any]] | None = None,
    fetch: dict[str, Any] | None = None,
    **extra: Any,
) -> Config:
    """A config like Musterstadt's whose accounts point at the demo server."""
    if not (folder / "mkdocs.yml").exists():
        copy_project(folder)
    if accounts is None:
        accounts = [
            {
                "key": key,
                "platform": "mastodon",
                "name": name,
                "instance": "musterstadt.social",
                "handle": key,
            }
            for key, name in (
                ("stadt", "Stadt Musterstadt"),
                ("feuerwehr", "Feuerwehr Musterstadt"),
                ("buecherei", "Stadtbücherei Musterstadt"),
            )
        ]
    for account in accounts:
        if account["platform"] == "mastodon" and "api_base" not in account:
            account["api_base"] = f"{server.url}/mastodon/{account['instance']}"
    data: dict[str, Any] = {
        "city": "Musterstadt",
        "site": {"title": "Aushang Musterstadt", "language": "de"},
        "archive_dir": "archive",
        "site_dir": "site",
        "fetch": {"retries": 2, "max_wait": 5, "timeout": 5, **(fetch or {})},
        "accounts": accounts,
        **extra,
    }
    path = folder / "aushang.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def tree_bytes(root: Path, *, skip: tuple[str, ...] = ("status.json", ".lock")) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (for 'nothing changed' assertions)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in skip
    }


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Musterstadt demo fetched from the demo server and built once: returns site/."""
    from fetch.demo.run import demo_config, demo_environ
    from fetch.run import run_fetch
    from fetch.site.build import build_site

    folder = copy_project(tmp_path_factory.mktemp("demo"))
    with DemoServer() as demo:
        config = demo_config(load_config(folder / "aushang.yml"), demo.url, folder / "demo")
        report = run_fetch(config, environ=demo_environ(config))
    assert report.exit_code == 0, report.summary_lines()
    build_site(config, strict=True)
    return config.site_dir
