"""All network access of a fetch run: polite retries, rate limits, and error mapping.

This is the one place where transport errors and HTTP statuses become domain errors (see the
tree in ``fetch.errors``):

- timeouts, connection errors, 5xx: retried with exponential backoff, then ``TransientError``;
- 429, and 503 with ``Retry-After``: wait as the server asks (seconds or an HTTP date), or until
  ``X-RateLimit-Reset`` (Mastodon's ISO 8601) or ``x-rate-limit-reset`` (X's spelling, a Unix
  time), capped at ``max_wait``; a server asking for longer than that gets ``RateLimitError``
  at once: the next hourly run picks up where this one stopped;
- 401/403: ``AuthError``; 404/410: ``NotFoundError``; other 4xx: ``SourceError``.

After a success whose ``X-RateLimit-Remaining`` is 0 we wait for the reset before the next call.
Secrets are never logged: URLs pass through ``redact`` before they reach a log line or an error,
and httpx's own INFO log (which prints full URLs) is silenced by ``quiet_library_loggers``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from .errors import (
    AuthError,
    NotFoundError,
    PayloadError,
    RateLimitError,
    SourceError,
    TransientError,
)

log = logging.getLogger("aushang.http")

USER_AGENT = "Aushang/0.1 (+https://github.com/aushang; public archive of a city's own posts)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024

# Query parameters that carry credentials or signatures on the APIs we talk to
# (Graph API access_token, signed CDN URLs' oh/oe/_nc_sig, generic key/token).
_SECRET_PARAMS = re.compile(
    r"^(access_token|token|key|api_key|apikey|secret|client_secret|signature|sig|oh|oe|_nc_sig"
    r"|x-amz-signature|x-amz-credential|x-amz-security-token)$",
    re.IGNORECASE,
)


# Every secret read from the environment during this process, so that no log line, error message
# or stored URL can carry one, whichever component formats it.
_KNOWN_SECRETS: set[str] = set()


def register_secret(secret: str) -> None:
    if secret and len(secret) >= 4:
        _KNOWN_SECRETS.add(secret)


class RedactingFilter(logging.Filter):
    """A logging filter that replaces every registered secret in a record's final message,
    its traceback and its stack information."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _KNOWN_SECRETS:
            record.msg, record.args = _scrub(record.getMessage()), None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = _scrub(record.exc_text)
            if record.stack_info:
                record.stack_info = _scrub(record.stack_info)
        return True


def _scrub(text: str) -> str:
    for secret in _KNOWN_SECRETS:
        text = text.replace(secret, "REDACTED")
    return text


def quiet_library_loggers() -> None:
    """httpx and httpcore log every URL at INFO/DEBUG, query strings included: keep them quiet."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def redact(url: str, secrets: Iterable[str] = ()) -> str:
    """The URL with credential-bearing query values and any known secret replaced."""
    try:
        parts = urlsplit(url)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            cleaned = [(k, "REDACTED" if _SECRET_PARAMS.match(k) else v) for k, v in pairs]
            url = urlunsplit(parts._replace(query=urlencode(cleaned, safe=":/,")))
    except ValueError:
        pass
    for secret in (*secrets, *_KNOWN_SECRETS):
        if secret:
            url = url.replace(secret, "REDACTED")
    return url


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_rate_limit_reset(value: str | None, now: float | None = None) -> float | None:
    """Seconds until X-RateLimit-Reset: ISO 8601 (Mastodon) or Unix epoch seconds (X)."""
    if not value:
        return None
    value = value.strip()
    current = time.time() if now is None else now
    if re.fullmatch(r"\d{9,11}(\.\d+)?", value):
        return max(0.0, float(value) - current)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - current)


class Http:
    """A polite GET client around one ``httpx.Client``, shared by the sources of a run."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        secrets: Iterable[str] = (),
    ) -> None:
        self.client = client or make_client()
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.secrets = [s for s in secrets if s]
        self.requests = 0
        self._wait_until = 0.0

    def add_secret(self, secret: str) -> None:
        register_secret(secret)
        if secret and secret not in self.secrets:
            self.secrets.append(secret)

    def redact(self, url: str) -> str:
        return redact(url, self.secrets)

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        account: str = "",
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """GET with retries. Statuses in ``ok`` are returned instead of raised (e.g. 304)."""
        attempt = 0
        wait: float | None
        while True:
            self._respect_rate_limit(account, url)
            self.requests += 1
            shown = self.redact(str(httpx.URL(url, params=params)))
            try:
                response = self.client.get(url, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                error: SourceError = TransientError("timeout", account=account, url=shown)
                error.__cause__ = exc
                wait = self._backoff(attempt)
            except httpx.TransportError as exc:
                error = TransientError(
                    f"connection failed ({type(exc).__name__})", account=account, url=shown
                )
                error.__cause__ = exc
                wait = self._backoff(attempt)
            else:
                log.debug("GET %s -> %s", shown, response.status_code)
                status = response.status_code
                if 200 <= status < 300 or status in ok:
                    self._note_rate_limit(response)
                    return response
                error, wait = self._classify(response, shown, account, attempt)
                response.close()
            if wait is None or attempt >= self.retries:
                raise error
            log.info("%s; retrying in %.1f s", error, wait)
            self.sleep(wait)
            attempt += 1

    def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET and parse JSON; an HTML page or a broken body is a ``PayloadError``, not data."""
        response = self.get(url, **kwargs)
        return parse_json(response, self.redact(str(response.url)), kwargs.get("account", ""))

    def download(
        self, url: str, *, account: str = "", max_bytes: int = MAX_DOWNLOAD_BYTES
    ) -> bytes:
        response = self.get(url, account=account)
        if len(response.content) > max_bytes:
            raise PayloadError(
                f"file larger than {max_bytes} bytes", account=account, url=self.redact(url)
            )
        return response.content

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * (2**attempt), self.max_wait))

    def _classify(
        self, response: httpx.Response, shown: str, account: str, attempt: int
    ) -> tuple[SourceError, float | None]:
        status = response.status_code
        detail = _error_detail(response)
        if status == 429 or (status == 503 and "retry-after" in response.headers):
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait is None:
                wait = parse_rate_limit_reset(_rate_limit_header(response, "reset"))
            if wait is None:
                wait = self._backoff(attempt)
            error = RateLimitError(
                f"rate limited{detail}", account=account, url=shown, status=status
            )
            return error, (wait if wait <= self.max_wait else None)
        if status >= 500:
            return (
                TransientError(f"server error{detail}", account=account, url=shown, status=status),
                self._backoff(attempt),
            )
        if status in (401, 403):
            return AuthError(
                f"not authorized{detail}", account=account, url=shown, status=status
            ), None
        if status in (404, 410):
            return NotFoundError(
                f"not found{detail}", account=account, url=shown, status=status
            ), None
        return SourceError(
            f"request refused{detail}", account=account, url=shown, status=status
        ), None

    def _note_rate_limit(self, response: httpx.Response) -> None:
        if (_rate_limit_header(response, "remaining") or "").strip() == "0":
            wait = parse_rate_limit_reset(_rate_limit_header(response, "reset"))
            if wait:
                self._wait_until = time.monotonic() + min(wait, self.max_wait)

    def _respect_rate_limit(self, account: str, url: str) -> None:
        delay = self._wait_until - time.monotonic()
        if delay > 0:
            log.info("rate limit exhausted; waiting %.1f s before %s", delay, self.redact(url))
            self.sleep(delay)
        self._wait_until = 0.0


def _rate_limit_header(response: httpx.Response, name: str) -> str | None:
    """``X-RateLimit-<name>`` (Mastodon, GitHub) or ``x-rate-limit-<name>`` (X, with a hyphen:
    https://docs.x.com/x-api/fundamentals/rate-limits), or ``ratelimit-<name>`` without prefix
    (Bluesky, after the IETF RateLimit header draft; its reset is Unix epoch seconds:
    https://docs.bsky.app/docs/advanced-guides/rate-limits); names are case-insensitive."""
    value: str | None = (
        response.headers.get(f"x-ratelimit-{name}")
        or response.headers.get(f"x-rate-limit-{name}")
        or response.headers.get(f"ratelimit-{name}")
    )
    return value


def parse_json(response: httpx.Response, shown_url: str, account: str = "") -> Any:
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type and not content_type.startswith("text/plain"):
        raise PayloadError(
            f"expected JSON, got {content_type or 'no content type'}",
            account=account,
            url=shown_url,
            status=response.status_code,
        )
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(
            f"malformed JSON ({exc})", account=account, url=shown_url, status=response.status_code
        ) from exc


def _error_detail(response: httpx.Response) -> str:
    """A short, safe excerpt of an API error body (``{"error": ...}`` shapes), if any."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    message: Any = None
    code: Any = None
    if isinstance(data, dict):
        message = (
            data.get("error_description")
            or data.get("error")
            or data.get("message")
            or data.get("detail")  # X's problem objects (RFC 7807 style)
            or data.get("title")
        )
        if isinstance(message, dict):
            message = message.get("message")
        # X's "reason" (client-not-enrolled) and LinkedIn's "code" (EXPIRED_ACCESS_TOKEN) name
        # the cause more precisely than the message does.
        code = data.get("reason") or data.get("code")
    prefix = f"{code}: " if isinstance(code, str) and code else ""
    return f": {prefix}{str(message)[:200]}" if message else (f": {code}" if prefix else "")


def make_client(timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        trust_env=False,  # proxies from the environment would see our requests; be explicit
    )
