"""Golden file pairs: each platform payload in tests/fixtures/<platform>/<case>.json converts
into exactly tests/fixtures/<platform>/<case>.expected.json. Adding a case means adding a file.

Set AUSHANG_UPDATE_GOLDEN=1 to (re)write the expected files after a deliberate change, then
read the diff before committing it.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

from fetch.sources import registry
from fetch.sources.base import AccountConfig

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(
    p
    for p in FIXTURES.glob("*/*.json")
    if not p.name.endswith(".expected.json") and p.parent.name in registry.SOURCES
)
ACCOUNT = AccountConfig(
    key="stadt",
    platform="",
    name="Stadt Musterstadt",
    api_base="https://musterstadt.social",
    params={"instance": "musterstadt.social", "handle": "stadt"},
)

# Platforms whose conversion needs other account parameters add their account here.
ACCOUNTS: dict[str, AccountConfig] = {}
ACCOUNTS["x"] = AccountConfig(
    key="stadt-x",
    platform="x",
    name="Stadt Musterstadt auf X",
    api_base="https://api.x.com",
    params={"username": "musterstadt"},
)
ACCOUNTS["linkedin"] = AccountConfig(
    key="stadt-linkedin",
    platform="linkedin",
    name="Stadt Musterstadt auf LinkedIn",
    api_base="https://api.linkedin.com",
    params={"organization_id": "98765432"},
)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_conversion_matches_golden_file(case: Path) -> None:
    platform = case.parent.name
    module = importlib.import_module(f"fetch.sources.{platform}")
    raw = json.loads(case.read_text(encoding="utf-8"))
    account = ACCOUNTS.get(platform, ACCOUNT)
    post = module.to_post(raw, account)
    actual = json.dumps(post.to_dict(), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    expected_path = case.with_name(case.stem + ".expected.json")
    if os.environ.get("AUSHANG_UPDATE_GOLDEN") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"missing golden file {expected_path.name}"
    assert actual == expected_path.read_text(encoding="utf-8")


def test_every_platform_with_a_converter_has_golden_cases() -> None:
    assert CASES, "no golden cases found"
