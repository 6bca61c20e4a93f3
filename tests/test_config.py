"""A broken config names the file, the key and what is expected, before anything is fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from fetch.config import load_config
from fetch.errors import ConfigError

GOOD = """
city: Musterstadt
accounts:
  - key: stadt
    platform: mastodon
    instance: musterstadt.social
    handle: stadt
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aushang.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD))
    (account,) = config.accounts
    assert account.api_base == "https://musterstadt.social"
    assert config.site.language == "de" and config.site.timezone == "Europe/Berlin"
    assert config.archive_dir == (tmp_path / "archive").resolve()


def test_media_on_the_site_and_github_pages_limits_are_the_defaults(tmp_path: Path) -> None:
    """Without media_url the media are served beside the pages; the size warning starts at 80 %
    of GitHub Pages' 1 GB."""
    site = load_config(_write(tmp_path, GOOD)).site
    assert site.media_url == ""
    assert (site.size_limit_mb, site.size_warn_percent) == (1000, 80.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://medien.musterstadt.de/aushang/", "https://medien.musterstadt.de/aushang/"),
        ("https://medien.musterstadt.de/aushang", "https://medien.musterstadt.de/aushang/"),
        ("https://medien.musterstadt.de", "https://medien.musterstadt.de/"),
        ("https://s3.example.net:8443/bucket/", "https://s3.example.net:8443/bucket/"),
        ("http://127.0.0.1:8000/media/", "http://127.0.0.1:8000/media/"),
        ("http://localhost:8000/", "http://localhost:8000/"),
    ],
)
def test_media_url_is_a_folder_address_on_https(tmp_path: Path, value: str, expected: str) -> None:
    """site.media_url is kept as a folder URL ending in "/"; http only on this machine."""
    text = GOOD + f"site:\n  media_url: {value}\n  size_limit_mb: 500\n  size_warn_percent: 90\n"
    site = load_config(_write(tmp_path, text)).site
    assert site.media_url == expected
    assert (site.size_limit_mb, site.size_warn_percent) == (500, 90.0)


def test_the_bundled_musterstadt_config_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parent.parent / "aushang.yml")
    assert config.city == "Musterstadt" and config.accounts


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            GOOD.replace("platform: mastodon", "platform: myspace"),
            "accounts[0].platform",
            "unknown platform 'myspace'",
        ),
        (
            GOOD.replace("    instance: musterstadt.social\n", ""),
            "accounts[0].instance",
            "is required for mastodon",
        ),
        (GOOD.replace("key: stadt", "key: Stadt Musterstadt"), "accounts[0].key", "lower-case"),
        (
            GOOD + "    token_env: abc123secretvalue\n",
            "accounts[0].token_env",
            "never the secret itself",
        ),
        (GOOD + "    tokn_env: X\n", "accounts[0].tokn_env", "unknown key"),
        (GOOD.replace("city: Musterstadt", "city: ''"), "city", "must name the city"),
        (GOOD + "site:\n  language: fr\n", "site.language", "expected one of de, en"),
        (GOOD + "site:\n  timezone: Mars/Olympus\n", "site.timezone", "unknown time zone"),
        (GOOD + "site:\n  url: musterstadt.de\n", "site.url", "absolute http(s) URL"),
        (GOOD + "fetch:\n  retries: -1\n", "fetch.retries", "whole number"),
        (GOOD + "accounts2: []\n", "accounts2", "unknown key"),
        ("city: Musterstadt\naccounts: []\n", "accounts", "at least one account"),
        (
            GOOD
            + "  - key: stadt\n    platform: mastodon\n    instance: a.social\n    handle: b\n",
            "accounts[1].key",
            "duplicate key",
        ),
        (GOOD + "takedown: nope\n", "takedown", "list of post ids"),
        (
            GOOD + "site:\n  media_url: medien.musterstadt.de/aushang/\n",
            "site.media_url",
            "absolute https:// address",
        ),
        (
            GOOD + "site:\n  media_url: http://medien.musterstadt.de/aushang/\n",
            "site.media_url",
            "must use https://",
        ),
        (
            GOOD + "site:\n  media_url: https://medien.musterstadt.de/a?b=c\n",
            "site.media_url",
            "absolute https:// address",
        ),
        (
            GOOD + "site:\n  media_url: https://medien.musterstadt.de/a;b/\n",
            "site.media_url",
            "absolute https:// address",
        ),
        (
            GOOD + "site:\n  media_url: https://user@medien.musterstadt.de/\n",
            "site.media_url",
            "absolute https:// address",
        ),
        (GOOD + "site:\n  size_limit_mb: 0\n", "site.size_limit_mb", "whole number >= 1"),
        (GOOD + "site:\n  size_warn_percent: 120\n", "site.size_warn_percent", "up to 100"),
        (GOOD + "site:\n  size_warn_percent: 0\n", "site.size_warn_percent", "positive"),
    ],
)
def test_a_broken_config_names_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}: {key}: ")


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + "  - key: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "line" in caught.value.key and "not valid YAML" in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml")
