"""Secrets never reach a log, the archive, the site or a stored paging URL.

A known fake token runs through a whole fetch and build against the demo server (every platform
of the Musterstadt demo, with logging at DEBUG, httpx and httpcore included), and is then
searched for in every log line, every file of the archive, the build folder and the site
(gzip-compressed ones unpacked), and in the state the next run would page from. The demo
server's request log shows where the token travelled: in the Authorization header, never in a
URL, except on the two Meta token endpoints whose documentation allows only the query; never
to a media host.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from fetch.cli import setup_logging
from fetch.config import load_config
from fetch.demo.run import demo_config
from fetch.demo.server import DemoServer
from fetch.http import Http, RedactingFilter, make_client
from fetch.run import run_fetch
from fetch.site.build import build_site
from tests.conftest import copy_project, write_config

FAKE_TOKEN = "aushang-fake-token-3c9e2a41b87f"
ENV_NAME = "MUSTERSTADT_TEST_TOKEN"
# Meta documents these two endpoints with the token as a query parameter only (fetch/sources/
# graph.py); every other request must carry it in the Authorization header.
TOKEN_IN_QUERY_ENDPOINTS = ("/refresh_access_token", "/debug_token")
# Query parameters that would hold a credential in a stored URL.
CREDENTIAL_PARAMETERS = {"access_token", "token", "input_token", "key", "api_key", "oauth_token"}


class _Lines(logging.Handler):
    """Every record as it would be printed, traceback included, with no redaction."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_log() -> Iterator[list[str]]:
    """All log output at DEBUG, httpx's and httpcore's included, unfiltered."""
    root = logging.getLogger()
    names = ("httpx", "httpcore", "aushang")
    saved = root.level, {name: logging.getLogger(name).level for name in names}
    handler = _Lines()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """The CLI's setup_logging replaces the root handlers; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


def forms_of(secret: str) -> list[bytes]:
    """The token as text, percent-encoded, and inside a JSON string."""
    return sorted({secret.encode(), quote(secret, safe="").encode(), json.dumps(secret).encode()})


def files_holding(root: Path, secret: str) -> list[str]:
    """Every file under ``root`` whose bytes (unpacked, if gzip) contain the secret."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            with contextlib.suppress(OSError, EOFError):
                data = gzip.decompress(data)
        if any(form in data for form in forms_of(secret)):
            found.append(path.relative_to(root).as_posix())
    return found


def credential_urls(value: Any) -> list[str]:
    """URLs anywhere in a JSON document whose query holds a credential parameter."""
    if isinstance(value, dict):
        return [url for child in value.values() for url in credential_urls(child)]
    if isinstance(value, list):
        return [url for child in value for url in credential_urls(child)]
    if isinstance(value, str) and "?" in value and "://" in value:
        names = {name.lower() for name, _ in parse_qsl(urlsplit(value).query)}
        return [value] if names & CREDENTIAL_PARAMETERS else []
    return []


def with_token_everywhere(config: Any) -> Any:
    """The demo config with every account reading its secrets from our variable; the Mastodon
    accounts (public on the demo instance) get a token too, so that all platforms carry one."""
    accounts = []
    for account in config.accounts:
        secrets = {name: ENV_NAME for name in account.secrets}
        if account.platform == "mastodon":
            secrets["token"] = ENV_NAME
        accounts.append(dataclasses.replace(account, secrets=secrets))
    return dataclasses.replace(config, accounts=tuple(accounts))


def accept_only_our_token(server: DemoServer) -> None:
    server.meta.tokens = {FAKE_TOKEN}
    server.x.token = FAKE_TOKEN
    server.linkedin.token = FAKE_TOKEN


def test_a_full_fetch_and_build_never_writes_the_token(
    tmp_path: Path, debug_log: list[str]
) -> None:
    """Every platform of the demo, fetched with a fake token and built: the token is in no log
    line, no file of the archive, build folder or site, and no stored URL."""
    folder = copy_project(tmp_path)
    with DemoServer() as server:
        accept_only_our_token(server)
        config = demo_config(load_config(folder / "aushang.yml"), server.url, folder / "demo")
        config = with_token_everywhere(config)
        report = run_fetch(config, environ={ENV_NAME: FAKE_TOKEN})
        requests = list(server.log)
    assert report.exit_code == 0, report.summary_lines()
    assert sum(a.new for a in report.accounts) >= 50
    build_site(config, strict=True)

    # the token went where it belongs: headers, and the two documented query endpoints
    with_header = [r for r in requests if r.headers.get("authorization") == f"Bearer {FAKE_TOKEN}"]
    platforms = {r.path.split("/")[1] for r in with_header}
    assert {"mastodon", "facebook", "instagram", "threads", "x", "linkedin"} <= platforms
    in_url = [r.path for r in requests if FAKE_TOKEN in r.path + json.dumps(r.query)]
    assert in_url, "the token endpoints were called: the riskiest path for the logs ran"
    assert [p for p in in_url if not p.endswith(TOKEN_IN_QUERY_ENDPOINTS)] == []
    media = [r for r in requests if r.path.startswith("/media/")]
    assert media and [r.path for r in media if "authorization" in r.headers] == []

    # and nowhere else
    assert len(debug_log) > 100
    assert any(line.startswith("INFO httpx: HTTP Request") for line in debug_log)
    assert [
        line for line in debug_log if any(f.decode() in line for f in forms_of(FAKE_TOKEN))
    ] == []
    assert files_holding(folder, FAKE_TOKEN) == []
    for state in sorted((folder / "demo" / "archive" / "state").glob("*.json")):
        assert credential_urls(json.loads(state.read_bytes())) == [], state.name
    assert "REDACTED" not in (folder / "demo" / "archive" / "status.json").read_text("utf-8")


def test_a_token_travels_in_the_authorization_header_only(tmp_path: Path) -> None:
    """An instance that requires sign-in gets the token as 'Authorization: Bearer', never in a
    URL, and never the media host; a wrong token fails without being repeated anywhere."""
    account = {
        "key": "stadt",
        "platform": "mastodon",
        "name": "Stadt Musterstadt",
        "instance": "musterstadt.social",
        "handle": "stadt",
        "token_env": ENV_NAME,
    }
    with DemoServer() as server:
        server.required_token = FAKE_TOKEN
        config = write_config(tmp_path, server, accounts=[account])
        wrong = "aushang-wrong-token-9d8e7f6a5b4c"
        refused = run_fetch(config, environ={ENV_NAME: wrong})
        assert refused.accounts[0].status == "failed"
        assert "401" in refused.accounts[0].error or "authoriz" in refused.accounts[0].error
        assert wrong not in refused.accounts[0].error
        server.log.clear()
        report = run_fetch(config, environ={ENV_NAME: FAKE_TOKEN})
        requests = list(server.log)
    assert report.exit_code == 0 and report.accounts[0].new > 0, report.summary_lines()
    api = [r for r in requests if r.path.startswith("/mastodon/")]
    assert api and all(r.headers.get("authorization") == f"Bearer {FAKE_TOKEN}" for r in api)
    assert [r.path for r in requests if FAKE_TOKEN in r.path + json.dumps(r.query)] == []
    assert [
        r.path for r in requests if r.path.startswith("/media/") and "authorization" in r.headers
    ] == []
    assert files_holding(tmp_path, FAKE_TOKEN) == []
    assert files_holding(tmp_path, wrong) == []


def test_the_cli_prints_no_token_even_with_verbose_logging(tmp_path: Path) -> None:
    """`aushang -v fetch` and `aushang -v build`, as CI runs them, print no token."""
    account = {
        "key": "stadt",
        "platform": "mastodon",
        "name": "Stadt Musterstadt",
        "instance": "musterstadt.social",
        "handle": "stadt",
        "token_env": ENV_NAME,
    }
    environment = {**os.environ, ENV_NAME: FAKE_TOKEN}
    environment.pop("GITHUB_STEP_SUMMARY", None)
    with DemoServer() as server:
        server.required_token = FAKE_TOKEN
        config = write_config(tmp_path, server, accounts=[account])
        outputs = []
        for command in ("fetch", "build"):
            result = subprocess.run(
                [sys.executable, "-m", "fetch.cli", "--config", str(config.path), "-v", command],
                capture_output=True,
                text=True,
                env=environment,
                cwd=tmp_path,
                timeout=600,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            outputs.append(result.stdout + result.stderr)
    assert "DEBUG aushang.http: GET" in outputs[0]  # verbose logging was on
    assert [FAKE_TOKEN in output for output in outputs] == [False, False]
    assert files_holding(tmp_path, FAKE_TOKEN) == []


def test_httpx_request_log_never_prints_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    """With the CLI's logging, httpx's request log (full URLs) stays quiet; and if a developer
    turns it on, the redacting filter replaces every secret read from the environment."""
    secret = "aushang-query-secret-51b2c3d4"
    with DemoServer() as server:
        url = f"{server.url}/mastodon/musterstadt.social/api/v1/accounts/lookup"
        http = Http(make_client(), retries=0)
        http.add_secret(secret)  # as run_fetch does with each secret it reads
        setup_logging(1)  # -v: DEBUG
        http.get(url, params={"acct": "stadt", "access_token": secret})
        quiet = capsys.readouterr().err
        logging.getLogger("httpx").setLevel(logging.DEBUG)
        http.get(url, params={"acct": "stadt", "access_token": secret})
        loud = capsys.readouterr().err
        http.client.close()
    assert "GET" in quiet and "HTTP Request" not in quiet and secret not in quiet
    assert "HTTP Request: GET" in loud and "REDACTED" in loud
    assert secret not in loud


def test_a_logged_traceback_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    """A secret inside an exception that is logged with its traceback is replaced as well."""
    secret = "aushang-traceback-secret-0a1b2c"
    http = Http(make_client(), retries=0)
    http.add_secret(secret)
    http.client.close()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("aushang.test-traceback")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"GET https://graph.example/x?access_token={secret} failed")
        except ValueError:
            logger.error("request failed", exc_info=True)
    finally:
        logger.removeHandler(handler)
    output = capsys.readouterr().err
    assert "request failed" in output
    assert secret not in output
