"""The one config file a city keeps (``aushang.yml``): loaded, validated, typed.

Every mistake is reported as a ``ConfigError`` naming the file, the key (as a dotted path such
as ``accounts[2].instance``) and what is expected, before any network request is made. Secrets
never appear in the file: an account names the environment variable that holds each secret
(``token_env: MUSTERSTADT_MASTODON_TOKEN``); its value is read only when the account is fetched.
Relative paths in the file are relative to the file's own folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .errors import ConfigError
from .sources import registry
from .sources.base import AccountConfig

DEFAULT_CONFIG = "aushang.yml"
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ENV_PATTERN = re.compile(r"^[A-Z_][A-Z0-9_]*$")
LANGUAGES = ("de", "en")

_ACCOUNT_COMMON = {"key", "platform", "name", "api_base", "enabled", "options"}


@dataclass(frozen=True)
class FetchSettings:
    max_pages: int = 50
    retries: int = 3
    max_wait: float = 120.0
    timeout: float = 20.0
    recheck_days: int = 14
    recheck_limit: int = 50  # posts re-checked per account and run, rotating through the window


@dataclass(frozen=True)
class SiteSettings:
    title: str
    url: str = ""
    description: str = ""
    language: str = "de"
    timezone: str = "Europe/Berlin"
    posts_per_page: int = 20
    # Where the files of site/media are published, when not beside the pages (a folder URL
    # ending in "/"); empty: under media/ of the site itself. docs/betrieb/medien.md
    media_url: str = ""
    # The host's limit for the whole site and the share of it at which a run warns. GitHub
    # Pages: "Published GitHub Pages sites may be no larger than 1 GB."
    # https://docs.github.com/en/pages/getting-started-with-github-pages/github-pages-limits
    size_limit_mb: int = 1000
    size_warn_percent: float = 80.0


@dataclass(frozen=True)
class Config:
    path: Path
    city: str
    site: SiteSettings
    archive_dir: Path
    site_dir: Path
    accounts: tuple[AccountConfig, ...]
    fetch: FetchSettings = FetchSettings()
    takedown: tuple[str, ...] = ()
    legal: dict[str, Any] = field(default_factory=dict)
    # Operations (fetch.lifecycle, the status page): an account without a successful fetch for
    # longer is "stale"; audit.log lines older than the retention are pruned; a build that would
    # publish more than max_drop_percent fewer posts than the last one is refused.
    stale_after_hours: int = 24
    audit_retention_days: int = 730
    max_drop_percent: float = 20.0

    def account(self, key: str) -> AccountConfig:
        for account in self.accounts:
            if account.key == key:
                return account
        raise KeyError(key)


class _Reader:
    """Reads typed values out of nested YAML data and names the path on every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(str(self.path), key, problem)

    def mapping(self, data: Any, key: str) -> dict[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise self.fail(key, f"expected a mapping of keys, got {_kind(data)}")
        return data

    def string(self, data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise self.fail(_join(where, key), "is required (a text value)")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(_join(where, key), f"expected a text value, got {_kind(value)}")
        return str(value).strip()

    def integer(self, data: dict[str, Any], key: str, where: str, default: int, low: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(_join(where, key), f"expected a whole number >= {low}, got {value!r}")
        return value

    def number(self, data: dict[str, Any], key: str, where: str, default: float) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(_join(where, key), f"expected a positive number, got {value!r}")
        return float(value)

    def unknown(self, data: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in data:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(_join(where, str(key)), f"unknown key; expected one of: {hint}")


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read the file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            str(path), where, f"not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    return parse_config(data, path)


def parse_config(data: Any, path: Path) -> Config:
    read = _Reader(path)
    root = read.mapping(data, "")
    read.unknown(
        root,
        {
            "city",
            "site",
            "archive_dir",
            "site_dir",
            "accounts",
            "fetch",
            "takedown",
            "legal",
            "stale_after_hours",
            "audit_retention_days",
            "max_drop_percent",
        },
        "",
    )
    base = path.parent
    city = read.string(root, "city", "")
    if not city:
        raise read.fail("city", "must name the city or body that publishes the posts")

    site_data = read.mapping(root.get("site"), "site")
    read.unknown(
        site_data,
        {
            "title",
            "url",
            "description",
            "language",
            "timezone",
            "posts_per_page",
            "media_url",
            "size_limit_mb",
            "size_warn_percent",
        },
        "site",
    )
    language = read.string(site_data, "language", "site", "de")
    if language not in LANGUAGES:
        raise read.fail(
            "site.language", f"expected one of {', '.join(LANGUAGES)}, got {language!r}"
        )
    url = read.string(site_data, "url", "site", "")
    if url and not re.match(r"^https?://[^/\s]+(/.*)?$", url):
        raise read.fail("site.url", f"expected an absolute http(s) URL, got {url!r}")
    timezone = read.string(site_data, "timezone", "site", "Europe/Berlin")
    _check_timezone(read, timezone)
    site = SiteSettings(
        title=read.string(site_data, "title", "site", f"Aushang {city}"),
        url=url.rstrip("/") + "/" if url else "",
        description=read.string(site_data, "description", "site", ""),
        language=language,
        timezone=timezone,
        posts_per_page=read.integer(site_data, "posts_per_page", "site", 20, 1),
        media_url=_parse_media_url(read, read.string(site_data, "media_url", "site", "")),
        size_limit_mb=read.integer(site_data, "size_limit_mb", "site", 1000, 1),
        size_warn_percent=read.number(site_data, "size_warn_percent", "site", 80.0),
    )
    if site.size_warn_percent > 100:
        raise read.fail(
            "site.size_warn_percent",
            f"expected a percentage up to 100, got {site.size_warn_percent:g}",
        )

    fetch_data = read.mapping(root.get("fetch"), "fetch")
    read.unknown(
        fetch_data,
        {"max_pages", "retries", "max_wait", "timeout", "recheck_days", "recheck_limit"},
        "fetch",
    )
    settings = FetchSettings(
        max_pages=read.integer(fetch_data, "max_pages", "fetch", 50, 1),
        retries=read.integer(fetch_data, "retries", "fetch", 3, 0),
        max_wait=read.number(fetch_data, "max_wait", "fetch", 120.0),
        timeout=read.number(fetch_data, "timeout", "fetch", 20.0),
        recheck_days=read.integer(fetch_data, "recheck_days", "fetch", 14, 0),
        recheck_limit=read.integer(fetch_data, "recheck_limit", "fetch", 50, 0),
    )

    raw_accounts = root.get("accounts")
    if not isinstance(raw_accounts, list) or not raw_accounts:
        raise read.fail("accounts", "expected a list with at least one account")
    accounts: list[AccountConfig] = []
    seen: set[str] = set()
    for index, item in enumerate(raw_accounts):
        account = _parse_account(read, item, f"accounts[{index}]")
        if account.key in seen:
            raise read.fail(f"accounts[{index}].key", f"duplicate key {account.key!r}")
        seen.add(account.key)
        accounts.append(account)

    takedown = root.get("takedown") or []
    if not isinstance(takedown, list) or not all(isinstance(t, str | int) for t in takedown):
        raise read.fail("takedown", "expected a list of post ids or URLs")
    for index, entry in enumerate(takedown):
        if not str(entry).strip():
            raise read.fail(f"takedown[{index}]", "is empty; expected a post id or URL")
    max_drop = read.number(root, "max_drop_percent", "", 20.0)
    if max_drop > 100:
        raise read.fail("max_drop_percent", f"expected a percentage up to 100, got {max_drop:g}")

    return Config(
        path=path,
        city=city,
        site=site,
        archive_dir=(base / read.string(root, "archive_dir", "", "archive")).resolve(),
        site_dir=(base / read.string(root, "site_dir", "", "site")).resolve(),
        accounts=tuple(accounts),
        fetch=settings,
        takedown=tuple(str(t).strip() for t in takedown),
        stale_after_hours=read.integer(root, "stale_after_hours", "", 24, 1),
        audit_retention_days=read.integer(root, "audit_retention_days", "", 730, 1),
        max_drop_percent=max_drop,
        legal=_parse_legal(read, root.get("legal")),
    )


def _parse_account(read: _Reader, item: Any, where: str) -> AccountConfig:
    data = read.mapping(item, where)
    platform = read.string(data, "platform", where)
    source = registry.get(platform)
    if source is None:
        known = ", ".join(registry.names())
        raise read.fail(f"{where}.platform", f"unknown platform {platform!r}; known: {known}")
    key = read.string(data, "key", where)
    if not KEY_PATTERN.match(key):
        raise read.fail(
            f"{where}.key",
            "expected 1-40 lower-case letters, digits or '-', starting with a letter or digit",
        )
    allowed = (
        _ACCOUNT_COMMON
        | {p.name for p in source.params}
        | {f"{s.name}_env" for s in source.secrets}
    )
    read.unknown(data, allowed, where)
    params: dict[str, str] = {}
    for param in source.params:
        if param.name in data:
            params[param.name] = read.string(data, param.name, where)
        elif param.required:
            example = f" (for example {param.example!r})" if param.example else ""
            raise read.fail(
                f"{where}.{param.name}", f"is required for {platform}: {param.description}{example}"
            )
    secrets: dict[str, str] = {}
    for secret in source.secrets:
        env_key = f"{secret.name}_env"
        if env_key in data:
            env_name = read.string(data, env_key, where)
            if not ENV_PATTERN.match(env_name):
                raise read.fail(
                    f"{where}.{env_key}",
                    "expected the NAME of an environment variable (A-Z, 0-9, _), "
                    "never the secret itself",
                )
            secrets[secret.name] = env_name
        elif secret.required:
            raise read.fail(
                f"{where}.{env_key}", f"names the environment variable holding {secret.description}"
            )
    api_base = read.string(data, "api_base", where, "") or source.api_base(params)
    if not re.match(r"^https?://", api_base):
        raise read.fail(f"{where}.api_base", f"expected an http(s) URL, got {api_base!r}")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise read.fail(f"{where}.enabled", "expected true or false")
    return AccountConfig(
        key=key,
        platform=platform,
        name=read.string(data, "name", where, key),
        api_base=api_base.rstrip("/"),
        params=params,
        secrets=secrets,
        options=read.mapping(data.get("options"), f"{where}.options") | {"enabled": enabled},
    )


# The keys of ``legal:``, which fill docs/about/*.md (the Impressum, the Datenschutzerklärung,
# the Erklärung zur Barrierefreiheit with the fields of Implementing Decision (EU) 2018/1523,
# and the optional pages in Leichte Sprache and Deutscher Gebärdensprache). Text values are
# Markdown; the table in docs/technik/seite-einrichten.md explains each key.
LEGAL_TEXT_KEYS = frozenset(
    {
        "impressum",
        "hosting",
        "datenschutz_verantwortlich",
        "datenschutz_kontakt",
        "barrierefreiheit_stelle",
        "barrierefreiheit_stand",
        "barrierefreiheit_maengel",
        "barrierefreiheit_pruefung",
        "barrierefreiheit_kontakt",
        "schlichtung",
        "schlichtung_stelle",
        "schlichtung_url",
    }
)
LEGAL_DATE_KEYS = frozenset({"barrierefreiheit_erstellt", "barrierefreiheit_ueberprueft"})
LEGAL_KEYS = LEGAL_TEXT_KEYS | LEGAL_DATE_KEYS | {"leichte_sprache", "gebaerdensprache"}
_GEBAERDENSPRACHE_KEYS = {"video", "poster", "text"}


def _parse_legal(read: _Reader, data: Any) -> dict[str, Any]:
    import datetime as dt

    legal = {k: v for k, v in read.mapping(data, "legal").items() if v is not None}
    read.unknown(legal, set(LEGAL_KEYS), "legal")
    for key in sorted(LEGAL_TEXT_KEYS & legal.keys()):
        read.string(legal, key, "legal")
    for key in sorted(LEGAL_DATE_KEYS & legal.keys()):
        value = legal[key]
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            value = dt.date.fromisoformat(value.strip())
        if not isinstance(value, dt.date):
            raise read.fail(f"legal.{key}", f"expected a date like 2026-05-04, got {value!r}")
        legal[key] = value
    url = legal.get("schlichtung_url")
    if url is not None and not re.match(r"^https?://\S+$", str(url)):
        raise read.fail("legal.schlichtung_url", f"expected an http(s) URL, got {url!r}")
    easy = legal.get("leichte_sprache")
    if easy is not None and not isinstance(easy, bool | str):
        raise read.fail(
            "legal.leichte_sprache",
            "expected true (the built-in text) or your own text in Leichte Sprache",
        )
    sign = legal.get("gebaerdensprache")
    if sign is not None:
        if isinstance(sign, dict):
            read.unknown(sign, _GEBAERDENSPRACHE_KEYS, "legal.gebaerdensprache")
            if not sign.get("video"):
                raise read.fail(
                    "legal.gebaerdensprache.video",
                    "is required: the address of the video in Deutscher Gebärdensprache",
                )
            for key in sorted(_GEBAERDENSPRACHE_KEYS & sign.keys()):
                read.string(sign, key, "legal.gebaerdensprache")
        elif not isinstance(sign, str):
            raise read.fail(
                "legal.gebaerdensprache",
                "expected your own text (Markdown) or a mapping with video, poster and text",
            )
    return legal


# A media host reached by plain http could be read and altered on the way; only a server on
# the same machine (a test, a preview) may use it.
_LOCAL_MEDIA_HOSTS = ("127.0.0.1", "localhost")
# Characters a folder URL may hold here: it becomes a source of the pages' Content-Security-
# Policy, where ";" and "," end a directive or a policy and quotes are not allowed.
_MEDIA_URL = re.compile(r"^(https?)://[^/\s?#@;,'\"]+(/[^\s?#;,'\"]*)?$")


def _parse_media_url(read: _Reader, url: str) -> str:
    """``site.media_url`` as a folder URL ending in "/", or "" for media beside the pages."""
    if not url:
        return ""
    match = _MEDIA_URL.match(url)
    if match is None:
        raise read.fail(
            "site.media_url",
            "expected the absolute https:// address of the folder holding the media, "
            f"e.g. https://medien.musterstadt.de/aushang/, got {url!r}",
        )
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname or "", parts.port
    except ValueError:
        raise read.fail("site.media_url", f"not a valid address: {url!r}") from None
    if match.group(1) == "http" and host not in _LOCAL_MEDIA_HOSTS:
        raise read.fail(
            "site.media_url",
            f"must use https:// (plain http only for 127.0.0.1 or localhost), got {url!r}",
        )
    return url if url.endswith("/") else url + "/"


def _check_timezone(read: _Reader, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise read.fail(
            "site.timezone", f"unknown time zone {name!r} (e.g. 'Europe/Berlin')"
        ) from None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )
