"""The site's part of aushang.yml: ``legal:`` keys are checked (an unknown key is an error that
lists the allowed ones), and the frame of the site follows ``site.language``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from fetch.config import LEGAL_KEYS, load_config
from fetch.errors import ConfigError
from fetch.site.build import write_mkdocs_config
from tests.conftest import ROOT


def _config(tmp_path: Path, legal: Any = None, **site: Any) -> Path:
    data = {
        "city": "Musterstadt",
        "site": {"title": "Aushang Musterstadt", **site},
        "accounts": [
            {"key": "stadt", "platform": "mastodon", "instance": "musterstadt.social",
             "handle": "stadt"}
        ],
        "legal": legal,
    }  # fmt: skip
    path = tmp_path / "aushang.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_an_unknown_legal_key_is_named_with_the_allowed_ones(tmp_path: Path) -> None:
    error = _error(_config(tmp_path, {"impresum": "Stadt Musterstadt"}))
    assert error.key == "legal.impresum"
    assert "unknown key" in error.problem
    for key in ("impressum", "barrierefreiheit_kontakt", "leichte_sprache", "schlichtung_url"):
        assert key in error.problem
    assert str(tmp_path / "aushang.yml") in str(error)


def test_legal_values_are_checked(tmp_path: Path) -> None:
    cases = {
        "legal.barrierefreiheit_erstellt": {"barrierefreiheit_erstellt": "letzte Woche"},
        "legal.schlichtung_url": {"schlichtung_url": "schlichtungsstelle-bgg.de"},
        "legal.leichte_sprache": {"leichte_sprache": ["Text"]},
        "legal.gebaerdensprache.video": {"gebaerdensprache": {"text": "ohne Video"}},
        "legal.gebaerdensprache.untertitel": {
            "gebaerdensprache": {"video": "https://www.musterstadt.de/dgs.mp4", "untertitel": "x"}
        },
        "legal.impressum": {"impressum": {"name": "Stadt"}},
    }
    for key, legal in cases.items():
        assert _error(_config(tmp_path, legal)).key == key, legal


def test_valid_legal_settings_load(tmp_path: Path) -> None:
    config = load_config(
        _config(
            tmp_path,
            {
                "impressum": "Stadt Musterstadt",
                "barrierefreiheit_erstellt": dt.date(2026, 5, 4),
                "barrierefreiheit_ueberprueft": "2026-11-02",
                "leichte_sprache": True,
                "gebaerdensprache": {"video": "https://www.musterstadt.de/dgs.mp4"},
                "hosting": None,  # an empty key is as good as none
            },
        )
    )
    assert config.legal["barrierefreiheit_ueberprueft"] == dt.date(2026, 11, 2)
    assert "hosting" not in config.legal
    assert set(config.legal) <= LEGAL_KEYS


def test_the_demo_config_is_valid() -> None:
    config = load_config(ROOT / "aushang.yml")
    assert config.legal["leichte_sprache"] is True


def test_an_english_site_gets_an_english_frame(tmp_path: Path) -> None:
    """Nav titles of Aushang's own pages, footer links and feed titles follow site.language."""
    config = load_config(_config(tmp_path, {"leichte_sprache": True}, language="en"))
    path = write_mkdocs_config(config, ROOT, tmp_path / "build", tmp_path / "build" / "docs")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    titles = [next(iter(entry)) for entry in data["nav"]]
    assert titles[:5] == ["All posts", "Archive", "Accounts", "Hashtags", "Search"]
    about = next(
        entry["About this archive"] for entry in data["nav"] if "About this archive" in entry
    )
    assert {"Easy language": "about/leichte-sprache.md"} in about
    assert data["theme"]["language"] == "en"
    extra = data["extra"]["aushang"]
    assert [link["label"] for link in extra["footer_links"]] == [
        "Legal notice", "Privacy", "Accessibility", "Easy language", "How to subscribe",
    ]  # fmt: skip
    assert extra["feeds"][0]["title"] == "Aushang Musterstadt: all posts (RSS)"
    assert str(Path(data["hooks"][-1]).name) == "theme_hooks.py"
