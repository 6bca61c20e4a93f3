"""Link cleaning: every case in fixtures/links/cases.json, and the rule files' integrity."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from fetch.clean.links import (
    CLEARURLS_PATH,
    CLEARURLS_SHA256,
    EXTRA_PATH,
    MAX_UNWRAP_DEPTH,
    RulesError,
    clean_url,
    default_rules,
    is_redirector,
    is_shortener,
    load_rules,
)
from fetch.errors import AushangError

CASES_PATH = Path(__file__).parent / "fixtures" / "links" / "cases.json"
CASES: list[dict[str, str]] = json.loads(CASES_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[case["why"] for case in CASES])
def test_case(case: dict[str, str]) -> None:
    """Each case file entry: the input URL cleans to the expected output."""
    assert clean_url(case["in"]) == case["out"]


def test_case_file_covers_enough() -> None:
    """The case file stays a real regression suite: many cases, each with a reason, no twins."""
    assert len(CASES) >= 60
    assert all(set(case) == {"in", "out", "why"} and case["why"] for case in CASES)
    assert len({case["in"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["why"] for case in CASES])
def test_cleaning_is_idempotent(case: dict[str, str]) -> None:
    """Cleaning a cleaned URL changes nothing (the depth-capped chain unwraps on)."""
    once = clean_url(case["in"])
    if once.startswith("https://l.facebook.com/"):
        return  # what is left after MAX_UNWRAP_DEPTH is still a wrapper, by design
    assert clean_url(once) == once


def test_explicit_rules_clean_like_the_default() -> None:
    """Passing a freshly loaded RuleSet gives the same results as the cached default one."""
    rules = load_rules()
    for case in CASES:
        assert clean_url(case["in"], rules) == case["out"]


def test_default_rules_are_compiled_once() -> None:
    """The rules are read, verified and compiled once per process."""
    assert default_rules() is default_rules()


def test_unwrap_depth_cap_is_five() -> None:
    """The documented cap is the one the depth case in the case file was written for."""
    assert MAX_UNWRAP_DEPTH == 5


def test_is_redirector() -> None:
    """Wrappers we can unwrap offline are redirectors; shorteners and plain pages are not."""
    assert is_redirector("https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.musterstadt.de%2F")
    assert is_redirector("https://www.google.com/url?q=https://www.musterstadt.de/&sa=D")
    assert not is_redirector("https://www.musterstadt.de/?u=https%3A%2F%2Fexample.org%2F")
    assert not is_redirector("https://t.co/AbCdEf1234")
    assert not is_redirector("mailto:rathaus@musterstadt.de")


def test_is_shortener() -> None:
    """t.co and lnkd.in links can only be expanded online: callers use the API's URL."""
    assert is_shortener("https://t.co/AbCdEf1234")
    assert is_shortener("https://lnkd.in/eXaMpLe")
    assert is_shortener("http://www.bit.ly/3MusterS")
    assert not is_shortener("https://www.musterstadt.de/t.co")
    assert not is_shortener("https://[::1")


# ---------------------------------------------------------------------------------------------
# Rule files


def test_shipped_catalog_matches_its_checksum() -> None:
    """The shipped ClearURLs catalog is the unmodified upstream file, with its licence beside."""
    assert hashlib.sha256(CLEARURLS_PATH.read_bytes()).hexdigest() == CLEARURLS_SHA256
    assert (CLEARURLS_PATH.parent / "LICENSE").read_text(encoding="utf-8").strip()


def test_edited_catalog_is_refused(tmp_path: Path) -> None:
    """One changed byte in the catalog stops the run with an error that names file and fix."""
    original = CLEARURLS_PATH.read_bytes()
    edited = tmp_path / "data.min.json"
    edited.write_bytes(original.replace(b"amazon", b"amaz0n", 1))
    assert edited.read_bytes() != original
    with pytest.raises(RulesError) as caught:
        load_rules(edited)
    message = str(caught.value)
    assert str(edited) in message
    assert "SHA-256" in message
    assert "CLEARURLS_SHA256" in message
    assert isinstance(caught.value, AushangError)


def test_truncated_catalog_is_refused(tmp_path: Path) -> None:
    """A truncated download is refused before it is parsed."""
    truncated = tmp_path / "data.min.json"
    truncated.write_bytes(CLEARURLS_PATH.read_bytes()[:1000])
    with pytest.raises(RulesError, match="corrupt or was edited"):
        load_rules(truncated)


def test_missing_catalog_is_refused(tmp_path: Path) -> None:
    """A missing catalog is a RulesError, not a bare OSError."""
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "absent.json")


def _extra_with(tmp_path: Path, providers: dict[str, Any]) -> Path:
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"providers": providers}), encoding="utf-8")
    return path


def test_broken_extra_rule_names_provider_and_pattern(tmp_path: Path) -> None:
    """A regular expression that does not compile is reported with its provider and key."""
    extra = _extra_with(tmp_path, {"city": {"urlPattern": "^https?://", "rules": ["utm_(.*"]}})
    with pytest.raises(RulesError, match=r"provider 'aushang: city', key 'rules'"):
        load_rules(extra_path=extra)


def test_unknown_key_in_extra_rules_is_refused(tmp_path: Path) -> None:
    """A misspelt key would silently do nothing, so it is an error."""
    extra = _extra_with(tmp_path, {"city": {"urlPattern": "^https?://", "rule": ["x"]}})
    with pytest.raises(RulesError, match=r"unknown keys \['rule'\]"):
        load_rules(extra_path=extra)


def test_redirection_without_group_is_refused(tmp_path: Path) -> None:
    """A redirection must capture its target."""
    extra = _extra_with(
        tmp_path, {"city": {"urlPattern": "^https?://", "redirections": ["u=[^&]+"]}}
    )
    with pytest.raises(RulesError, match="has no group"):
        load_rules(extra_path=extra)


def test_extra_rules_apply(tmp_path: Path) -> None:
    """A provider added to extra.json acts: a city can add its own tracking parameter."""
    extra = _extra_with(tmp_path, {"city": {"urlPattern": "musterstadt\\.de", "rules": ["wt_.+"]}})
    rules = load_rules(extra_path=extra)
    url = "https://www.musterstadt.de/?wt_campaign=x&utm_source=y&id=1"
    assert clean_url(url, rules) == "https://www.musterstadt.de/?id=1"


def test_javascript_patterns_compile_in_python_without_warnings() -> None:
    """Every ClearURLs pattern (written for JavaScript) compiles in Python as it is.

    Python warns (FutureWarning) where it may read a pattern differently in the future; a
    catalog update that brings such a pattern fails here, not silently at runtime.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rules = load_rules()
    assert len(rules.providers) > 200


def test_keyword_guard_never_hides_a_match() -> None:
    """The substring pre-check of each pattern never rules out a URL the pattern matches."""
    rules = default_rules()
    urls = [case["in"].strip() for case in CASES] + [case["out"] for case in CASES]
    urls += [
        "https://www.amazon.co.uk/gp/redirector.html?x=1",
        "https://accounts.google.com/o/oauth2/auth?x=1",
        "https://mail.google.com/mail/u/0/",
        "https://www.bing.com/WS/redirect/?x=1",
        "https://GITLAB.example.org/group/project?ref=main",
        "https://x.com/i/redirect?url=1",
    ]
    for provider in rules.providers:
        for keyword, pattern in (provider.url_pattern, *provider.exceptions):
            for url in urls:
                if keyword and pattern.search(url):
                    assert keyword in url.lower(), (provider.name, pattern.pattern, url)


def test_extra_json_is_valid_and_documented() -> None:
    """Our own rule file parses, explains itself, and lists the shorteners."""
    extra = json.loads(EXTRA_PATH.read_text(encoding="utf-8"))
    assert extra["about"]
    assert {"t.co", "lnkd.in"} <= set(extra["shorteners"])
