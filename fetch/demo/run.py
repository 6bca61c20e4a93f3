"""``aushang demo``: the city's real config, fetched from the local demo server, built, served.

The demo changes nothing in the config but where each account's API lives (the demo server on
127.0.0.1) and where the archive goes (``demo/archive``), so it exercises exactly the code a
city runs against the real platforms.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import logging
import os
import shutil
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Config
from ..sources.base import AccountConfig
from .meta_api import DEMO_TOKEN
from .server import DemoServer

log = logging.getLogger("aushang.demo")


def demo_api_base(account: AccountConfig, server_url: str) -> str:
    """Where the demo server answers for this account's platform."""
    if account.platform == "mastodon":
        return f"{server_url}/mastodon/{account.params['instance']}"
    if account.platform == "feed":  # /feed/<host>: the feed URL's path follows (sources/feed.py)
        return f"{server_url}/feed/{urlsplit(account.params['url']).netloc}"
    return f"{server_url}/{account.platform}"


def demo_config(config: Config, server_url: str, work_dir: Path) -> Config:
    accounts = tuple(
        dataclasses.replace(a, api_base=demo_api_base(a, server_url)) for a in config.accounts
    )
    return dataclasses.replace(config, accounts=accounts, archive_dir=work_dir / "archive")


# The one token every demo platform accepts.
DEMO_SECRET = DEMO_TOKEN


def demo_environ(config: Config, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a demo run: a copy of ``base`` (the process environment) in which
    every secret the config names holds the demo value. Real tokens are never sent, not even
    to the demo server on 127.0.0.1, and the process environment stays untouched."""
    environ = dict(os.environ if base is None else base)
    for account in config.accounts:
        for env_name in account.secrets.values():
            environ[env_name] = DEMO_SECRET
    return environ


def reset_demo(work_dir: Path) -> None:
    if work_dir.exists():
        shutil.rmtree(work_dir)


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site and its 404 page; no logging of readers."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(str(self.directory)) / "404.html"
        if code == 404 and page.exists():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)


def serve_site(site_dir: Path, port: int = 8000) -> None:  # pragma: no cover - interactive
    handler = partial(_SiteHandler, directory=str(site_dir))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"Die Musterstadt-Seite läuft auf http://127.0.0.1:{port}/ (Strg+C beendet)")
        with contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()


def start_demo_server() -> DemoServer:
    server = DemoServer()
    server.start()
    return server
