"""Browser fixtures: a static server over a built site, and headless Chromium that fails a test
on any request leaving 127.0.0.1.

Use them from a test module with ``pytest_plugins = ["tests.browser"]``, then ask for

- ``site_server``: the session's demo site (``demo_site``) served on 127.0.0.1, with
  ``404.html`` for missing pages, as GitHub Pages serves it; it records every request it got
  (path and headers);
- ``chromium``: one headless Chromium for the session (Debian's /usr/bin/chromium, driven by
  Playwright; Playwright's own browser download is never used);
- ``visit``: a fresh browser context (no cookies, no storage) with the guard attached. Every
  request goes through ``context.route("**/*")``: one to another host is recorded in
  ``visit.external`` and aborted, so nothing reaches the network even when a test fails.
  Content-Security-Policy violations (``securitypolicyviolation`` events and Chromium's
  "Refused to ..." console messages) are recorded in ``visit.csp_violations``.

``SiteServer`` and ``open_visit`` work on any site folder, for tests that build their own.
Without /usr/bin/chromium the browser tests are skipped with a message, except in CI (the
``CI`` environment variable is set), where they fail: a proof that did not run is no proof.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = "127.0.0.1"
# Schemes that never touch the network.
_LOCAL_SCHEMES = frozenset({"data", "blob", "about"})

# Reported from every document (before any of the page's own scripts run) to Python, through a
# binding that survives navigations.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__aushangCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}`
    + ` in ${event.documentURI}` + (event.sample ? ` (${event.sample})` : "")
  );
});
"""


def require_chromium() -> None:
    """Skip without Chromium on a developer's machine; fail in CI."""
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run "
        "the browser tests"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class ServedRequest:
    path: str
    headers: dict[str, str]


class SiteServer:
    """A threaded static server for ``site_dir`` on 127.0.0.1 (a free port), like a static host:
    ``404.html`` with status 404 for what does not exist. Use as a context manager."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = Path(site_dir)
        self.requests: list[ServedRequest] = []
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://{LOOPBACK}:{self._httpd.server_address[1]}/"

    def __enter__(self) -> SiteServer:
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def send_head(self) -> Any:
                with server._lock:
                    server.requests.append(
                        ServedRequest(self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                return super().send_head()

            def send_error(
                self, code: int, message: str | None = None, explain: str | None = None
            ) -> None:
                page = server.site_dir / "404.html"
                if code != 404 or not page.exists():
                    super().send_error(code, message, explain)
                    return
                body = page.read_bytes()
                self.send_response(404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        handler = partial(Handler, directory=str(self.site_dir))
        self._httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


def is_loopback(url: str) -> bool:
    """True for a URL that stays on this machine (127.0.0.1) or never touches the network."""
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == LOOPBACK


@dataclass
class Visit:
    """One fresh browser context with the external-request guard; see the module docstring."""

    context: Any  # playwright.sync_api.BrowserContext
    page: Any  # playwright.sync_api.Page
    base_url: str
    requests: list[str] = field(default_factory=list)  # every request the browser made
    external: list[str] = field(default_factory=list)  # requests to other hosts, aborted
    csp_violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def goto(self, path: str = "") -> Any:
        """Open ``path`` (relative to the site) and wait until the network is quiet."""
        return self.page.goto(self.base_url + path.lstrip("/"), wait_until="networkidle")

    def settle(self) -> None:
        self.page.wait_for_load_state("networkidle")

    def assert_private(self) -> None:
        """Nothing left 127.0.0.1, and the policy had to block nothing."""
        assert self.external == [], f"requests to other hosts: {self.external}"
        assert self.csp_violations == [], (
            f"Content-Security-Policy violations: {self.csp_violations}"
        )


@contextlib.contextmanager
def open_visit(browser: Any, base_url: str) -> Iterator[Visit]:
    context = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin")
    page = context.new_page()
    visit = Visit(context=context, page=page, base_url=base_url)

    def guard(route: Any) -> None:
        url = route.request.url
        visit.requests.append(url)
        if is_loopback(url):
            route.continue_()
        else:
            visit.external.append(url)
            route.abort("blockedbyclient")

    def on_console(message: Any) -> None:
        text = f"{message.type}: {message.text}"
        visit.console.append(text)
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            visit.csp_violations.append(text)

    context.route("**/*", guard)
    context.expose_binding(
        "__aushangCspViolation", lambda _source, text: visit.csp_violations.append(str(text))
    )
    context.add_init_script(_CSP_LISTENER)
    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    try:
        yield visit
    finally:
        context.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def site_server(demo_site: Path) -> Iterator[SiteServer]:
    with SiteServer(demo_site) as server:
        yield server


@pytest.fixture
def visit(chromium: Any, site_server: SiteServer) -> Iterator[Visit]:
    with open_visit(chromium, site_server.url) as opened:
        yield opened
