"""A small HTTP server on 127.0.0.1 that answers like the platforms do, for the demo and tests.

It serves each platform under its own path prefix (``/mastodon/<instance>/api/v1/...``), so
one server stands in for every instance and API; an account's ``api_base`` points at it.
Media files are generated from the demo data's seeds (``fetch.demo.photos``) and carry EXIF,
GPS and orientation tags, as photos uploaded from a phone do.

Tests use the same server as their fixture server. They can inject faults (a status, headers
and body for the next N requests whose path matches), require a bearer token, add posts while
it runs, and read the log of requests it received.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

DATA_FILE = Path(__file__).parent / "data" / "musterstadt.yml"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    base: str  # scheme://host:port of this server as the client addressed it

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, body, merged)


@dataclass
class Fault:
    pattern: re.Pattern[str]
    response: Response
    times: int


Handler = Callable[[Request], Response | None]


class DemoServer:
    """Serve the demo data. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, data_file: Path = DATA_FILE, *, port: int = 0) -> None:
        from . import bluesky_api, feeds_api, linkedin_api, mastodon_api, x_api
        from .meta_api import MetaDemo

        self.data: dict[str, Any] = yaml.safe_load(data_file.read_text(encoding="utf-8"))
        self.port = port
        self.faults: list[Fault] = []
        self.log: list[Request] = []
        self.required_token: str | None = None
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.mastodon = mastodon_api.MastodonDemo(self.data)
        self.bluesky = bluesky_api.BlueskyDemo()
        self.x = x_api.XDemo()
        self.linkedin = linkedin_api.LinkedInDemo()
        self.website = feeds_api.FeedsDemo()
        self.youtube = feeds_api.YouTubeDemo()
        self.telegram = feeds_api.TelegramDemo()
        self.meta = MetaDemo()  # Facebook, Instagram and Threads (Graph API)
        self.handlers: list[tuple[str, Handler]] = [
            ("/mastodon/", self.mastodon.handle),
            ("/bluesky/", self.bluesky.handle),
            ("/x/", self.x.handle),
            ("/linkedin/", self.linkedin.handle),
            ("/feed/", self.website.handle),
            ("/youtube/", self.youtube.handle),
            ("/telegram/", self.telegram.handle),
            ("/facebook/", self.meta.handle),
            ("/instagram/", self.meta.handle),
            ("/threads/", self.meta.handle),
            ("/media/", self._media),
        ]

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> str:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                server._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test hooks ----------------------------------------------------------------------------
    def fail(
        self,
        path_pattern: str,
        status: int,
        *,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests whose path matches with this response instead."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self.faults.append(
                Fault(re.compile(path_pattern), Response(status, data, dict(headers or {})), times)
            )

    def requests_to(self, pattern: str) -> list[Request]:
        return [r for r in self.log if re.search(pattern, r.path)]

    # -- serving -------------------------------------------------------------------------------
    def _serve(self, raw: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(raw.path)
        host = raw.headers.get("Host") or f"127.0.0.1:{self.port}"
        request = Request(
            method="GET",
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in raw.headers.items()},
            base=f"http://{host}",
        )
        with self._lock:
            self.log.append(request)
        response = self._respond(request)
        raw.send_response(response.status)
        headers = {"Content-Length": str(len(response.body)), **response.headers}
        for name, value in headers.items():
            raw.send_header(name, value)
        raw.end_headers()
        raw.wfile.write(response.body)

    def _respond(self, request: Request) -> Response:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(request.path):
                    fault.times -= 1
                    return fault.response
        if (
            self.required_token
            and not request.path.startswith("/media/")
            and request.headers.get("authorization") != f"Bearer {self.required_token}"
        ):
            return Response.json({"error": "This API requires an authenticated user"}, status=401)
        for prefix, handler in self.handlers:
            if request.path.startswith(prefix):
                try:
                    response = handler(request)
                except Exception as exc:  # a bug in a demo handler is a 500, as on a real server
                    return Response.json({"error": f"demo server error: {exc}"}, status=500)
                if response is not None:
                    return response
        return Response.json({"error": "Not Found"}, status=404)

    def _media(self, request: Request) -> Response | None:
        """``/media/<seed>.<jpg|png|webp>?gps=1&orientation=6&w=1600&h=1200``"""
        from .photos import make_photo

        match = re.fullmatch(r"/media/([A-Za-z0-9_.-]+)\.(jpg|png|webp)", request.path)
        if not match:
            return None
        seed, extension = match.groups()
        fmt = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[extension]
        try:  # capped: the demo server must not be talked into drawing a gigapixel image
            width = min(max(int(request.param("w", "1600") or 1600), 16), 4000)
            height = min(max(int(request.param("h", "1200") or 1200), 16), 4000)
        except ValueError:
            return Response.json({"error": "bad size"}, status=400)
        data = make_photo(
            seed,
            width=width,
            height=height,
            fmt=fmt,
            exif=True,
            gps=request.param("gps") == "1",
            orientation=int(request.param("orientation", "1") or 1),
        )
        mime = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
        return Response(200, data, {"Content-Type": mime, "Cache-Control": "max-age=86400"})


def serve_forever(port: int = 0) -> None:  # pragma: no cover - interactive use
    with DemoServer(port=port) as server:
        print(f"Demo platforms on {server.url}")
        threading.Event().wait()
