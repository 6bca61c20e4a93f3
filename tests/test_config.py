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
