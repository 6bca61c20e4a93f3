"""Clean links: unwrap platform redirectors, then drop tracking parameters.

Every URL that leaves a post for our site goes through :func:`clean_url`. It runs on every link
of every post, so all rules are compiled once per process (:func:`default_rules`).

Rules come from two files in ``rules/``:

- ``clearurls/data.min.json``: the ClearURLs rule catalog (LGPL-3.0, ``clearurls/LICENSE``),
  shipped unmodified and pinned by :data:`CLEARURLS_SHA256`; a corrupt or edited copy is refused
  with :class:`RulesError`. Format: https://docs.clearurls.xyz/1.23.0/specs/rules
- ``extra.json``: our own additions, in the same provider shape, plus the link shorteners that
  only an online request could expand (sources use the platform API's expanded URL instead).

ClearURLs semantics as implemented here: a provider applies when its ``urlPattern`` is found in
the URL and none of its ``exceptions`` is; ``redirections`` yield the target from their first
capture group; ``rules`` and ``referralMarketing`` are regular expressions that must match a
whole parameter name, case-insensitively, in the query and in ``#key=value`` fragments;
``rawRules`` are removed from the URL string. ClearURLs writes its patterns for JavaScript; all
of them compile unchanged with Python's ``re`` (``tests/test_links.py`` checks this on every
catalog update), so no translation is done. Flags: ``re.IGNORECASE | re.ASCII``, which is what
JavaScript's ``i`` flag means for these ASCII patterns.

Where we differ from the ClearURLs add-on, on purpose:

- A ``completeProvider`` would make the add-on block the request. We archive, we don't browse:
  the URL is kept exactly as it is.
- A redirect target is percent-decoded only until its scheme and host are readable, not "until
  stable": decoding further would turn an escaped ``%26`` inside the target's own query into a
  real ``&`` and change the link. A target without a scheme gets ``https://`` (the add-on uses
  ``http://``), and a target that is not a plausible web URL is not followed.
- Unwrapping happens first (at most :data:`MAX_UNWRAP_DEPTH` wrappers deep), parameter removal
  second, with every applicable provider judged on the same, fully unwrapped URL.
- Kept parameters keep their order and their exact bytes: the query is split on ``&`` and
  ``=`` and joined again, never decoded and re-encoded. A parameter name is also matched in
  its percent-decoded form (``utm%5Fsource``).
- Whitespace around a URL, and tabs and newlines inside it, are removed first, as browsers do;
  so ``"java\tscript:"`` is recognised as ``javascript:``.

Speed: most patterns name a domain; a substring test on that name (the "keyword" of a Guarded
pattern) rules out nearly every provider before any regular expression runs, and results for
the default rules are cached per URL. Measure with :func:`print_timing` after changing rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from operator import attrgetter
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from fetch.errors import AushangError

RULES_DIR = Path(__file__).parent / "rules"
CLEARURLS_PATH = RULES_DIR / "clearurls" / "data.min.json"
# ClearURLs/Rules commit 9317c06bf56ae3b447f56c14dc2e03a68ab53dee (2025-07-29), data.min.json.
# Updating the catalog means replacing the file unmodified and this constant in the same commit.
CLEARURLS_SHA256 = "d055d1e4612be57c706def4f3fb46c4858a8d97864a23e7d2f35622ea32a6b4f"
EXTRA_PATH = RULES_DIR / "extra.json"

# Real posts wrap a link two or three times at most (Facebook's shim around Google's around the
# target); a longer chain is a loop or a trick, so we stop unwrapping and clean what we have.
MAX_UNWRAP_DEPTH = 5
_MAX_DECODE_ROUNDS = 5

_FLAGS = re.IGNORECASE | re.ASCII
_PROVIDER_KEYS = frozenset(
    {
        "urlPattern",
        "completeProvider",
        "rules",
        "rawRules",
        "referralMarketing",
        "exceptions",
        "redirections",
        "forceRedirection",
    }
)
_PATTERN_LIST_KEYS = ("rules", "referralMarketing", "rawRules", "exceptions", "redirections")

# Browsers drop ASCII tab and newlines anywhere in a URL and trim C0 controls and spaces around
# it (WHATWG URL standard), so "java\tscript:" is a javascript: URL. We do the same before
# looking at the scheme.
_URL_INVISIBLE = re.compile(r"[\t\n\r]")
_URL_TRIM = "".join(chr(code) for code in range(0x21))
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", _FLAGS)
_DROPPED_SCHEMES = frozenset({"javascript", "data", "vbscript"})
_WEB_SCHEMES = frozenset({"http", "https"})
# A redirect target whose host can be read: optional scheme, a host without escapes, an
# optional port, then the path, query, fragment or the end.
_READABLE_TARGET = re.compile(r"(?:https?://)?[^/?#%:\s]+(?::[0-9]+)?(?:[/?#]|$)", _FLAGS)
_SCHEMELESS_TARGET = re.compile(r"[^/?#%:\s]+\.[^/?#%:\s]+(?::[0-9]+)?(?:[/?#]|$)", _FLAGS)
# Characters a decoded target may contain that are never valid raw in a URL (and would be
# dangerous in an HTML attribute): they are escaped again.
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f\"<>`]")


class RulesError(AushangError):
    """A link rules file is missing, corrupt, edited, or not in the expected shape."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


# A regular expression with a literal it cannot match without (lowercase; "" if none found),
# so that most patterns are ruled out by a substring test, ~20 times cheaper than a search.
Guarded = tuple[str, re.Pattern[str]]


@dataclass(frozen=True, slots=True)
class Provider:
    """One compiled rule provider (a ClearURLs provider or one of ours)."""

    name: str
    rank: int  # position in the rule files; the first applicable redirection wins
    url_pattern: Guarded
    exceptions: tuple[Guarded, ...]
    redirections: tuple[re.Pattern[str], ...]
    raw_rules: tuple[re.Pattern[str], ...]
    # rules and referralMarketing joined into one alternation, used with fullmatch
    parameters: re.Pattern[str] | None
    complete: bool

    def applies_to(self, url: str, lowered: str) -> bool:
        """Whether the provider acts on ``url``; ``lowered`` is ``url.lower()``."""
        # Plain loops, no helper calls: this runs for every provider on every link.
        keyword, pattern = self.url_pattern
        if (keyword and keyword not in lowered) or pattern.search(url) is None:
            return False
        for keyword, exception in self.exceptions:
            if (not keyword or keyword in lowered) and exception.search(url):
                return False
        return True


@dataclass(frozen=True, slots=True)
class _Selection:
    """Providers grouped by the keyword of their urlPattern, to test each group at once."""

    unguarded: tuple[Provider, ...]
    by_keyword: tuple[tuple[str, tuple[Provider, ...]], ...]

    @classmethod
    def of(cls, providers: Iterable[Provider]) -> _Selection:
        unguarded: list[Provider] = []
        groups: dict[str, list[Provider]] = {}
        for provider in providers:
            keyword = provider.url_pattern[0]
            if keyword:
                groups.setdefault(keyword, []).append(provider)
            else:
                unguarded.append(provider)
        by_keyword = tuple((keyword, tuple(group)) for keyword, group in groups.items())
        return cls(unguarded=tuple(unguarded), by_keyword=by_keyword)

    def applicable(self, url: str) -> list[Provider]:
        """The providers that act on ``url``, in rule-file order."""
        lowered = url.lower()
        found = [p for p in self.unguarded if p.applies_to(url, lowered)]
        for keyword, group in self.by_keyword:
            if keyword in lowered:
                found.extend(p for p in group if p.applies_to(url, lowered))
        found.sort(key=attrgetter("rank"))
        return found


@dataclass(frozen=True, slots=True)
class RuleSet:
    """All providers, in order (ours first, so our redirections win), and the shorteners."""

    providers: tuple[Provider, ...]
    shorteners: frozenset[str]
    # computed once, so that a URL is only tested against providers that can act on it
    redirecting: _Selection = field(init=False)
    blocking: _Selection = field(init=False)
    cleaning: _Selection = field(init=False)
    path_cleaning: _Selection = field(init=False)

    def __post_init__(self) -> None:
        providers = self.providers
        selections = {
            "redirecting": _Selection.of(p for p in providers if p.redirections),
            "blocking": _Selection.of(p for p in providers if p.complete),
            "cleaning": _Selection.of(
                p for p in providers if p.parameters is not None or p.raw_rules
            ),
            "path_cleaning": _Selection.of(p for p in providers if p.raw_rules),
        }
        for name, selection in selections.items():
            object.__setattr__(self, name, selection)


# ---------------------------------------------------------------------------------------------
# Loading


def load_rules(clearurls_path: Path | None = None, extra_path: Path | None = None) -> RuleSet:
    """Read, verify and compile the rule files; raise :class:`RulesError` on any problem.

    The ClearURLs catalog must match :data:`CLEARURLS_SHA256` whatever its path.
    """
    clearurls_file = clearurls_path or CLEARURLS_PATH
    extra_file = extra_path or EXTRA_PATH
    clearurls = _parse_json(clearurls_file, _read_verified(clearurls_file, CLEARURLS_SHA256))
    extra = _parse_json(extra_file, _read(extra_file))
    ours = _to_providers(extra_file, extra, prefix="aushang: ", first_rank=0)
    theirs = _to_providers(clearurls_file, clearurls, prefix="ClearURLs: ", first_rank=len(ours))
    return RuleSet(providers=(*ours, *theirs), shorteners=_to_shorteners(extra_file, extra))


@cache
def default_rules() -> RuleSet:
    """The shipped rules, loaded and compiled once per process."""
    return load_rules()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RulesError(path, f"cannot read the link rules ({exc.strerror})") from exc


def _read_verified(path: Path, expected_sha256: str) -> bytes:
    data = _read(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise RulesError(
            path,
            f"SHA-256 is {digest}, expected {expected_sha256}: the rule catalog is corrupt or "
            "was edited. Restore the unmodified file from the Aushang release; to update the "
            "catalog on purpose, replace the file unmodified and CLEARURLS_SHA256 in "
            "fetch/clean/links.py together.",
        )
    return data


def _parse_json(path: Path, data: bytes) -> dict[str, object]:
    try:
        parsed: object = json.loads(data)
    except ValueError as exc:
        raise RulesError(path, f"not valid JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise RulesError(path, "expected a JSON object at the top level")
    return parsed


def _to_providers(
    path: Path, document: dict[str, object], *, prefix: str, first_rank: int
) -> list[Provider]:
    raw_providers = document.get("providers")
    if not isinstance(raw_providers, dict):
        raise RulesError(path, "key 'providers': expected an object of providers")
    return [
        _to_provider(path, prefix + name, raw, rank=first_rank + index)
        for index, (name, raw) in enumerate(raw_providers.items())
    ]


def _to_provider(path: Path, name: str, raw: object, *, rank: int) -> Provider:
    if not isinstance(raw, dict):
        raise RulesError(path, f"provider {name!r}: expected an object")
    unknown = sorted(set(raw) - _PROVIDER_KEYS)
    if unknown:
        raise RulesError(path, f"provider {name!r}: unknown keys {unknown}")
    url_pattern = raw.get("urlPattern")
    if not isinstance(url_pattern, str):
        raise RulesError(path, f"provider {name!r}, key 'urlPattern': expected a string")
    lists: dict[str, list[str]] = {}
    for key in _PATTERN_LIST_KEYS:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise RulesError(path, f"provider {name!r}, key {key!r}: expected a list of strings")
        lists[key] = value
    complete = raw.get("completeProvider", False)
    if not isinstance(complete, bool):
        raise RulesError(path, f"provider {name!r}, key 'completeProvider': expected true/false")

    def compiled(key: str, pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern, _FLAGS)
        except re.error as exc:
            raise RulesError(
                path, f"provider {name!r}, key {key!r}: {pattern!r} does not compile ({exc})"
            ) from exc

    names = lists["rules"] + lists["referralMarketing"]
    parameters = None
    if names:
        for rule in names:
            compiled("rules", rule)  # names the faulty rule instead of the joined pattern
        parameters = compiled("rules", "|".join(f"(?:{rule})" for rule in names))
    redirections = tuple(compiled("redirections", item) for item in lists["redirections"])
    for redirection in redirections:
        if redirection.groups < 1:
            raise RulesError(
                path, f"provider {name!r}: redirection {redirection.pattern!r} has no group"
            )

    def guarded(key: str, pattern: str) -> Guarded:
        return _required_literal(pattern), compiled(key, pattern)

    return Provider(
        name=name,
        rank=rank,
        url_pattern=guarded("urlPattern", url_pattern),
        exceptions=tuple(guarded("exceptions", item) for item in lists["exceptions"]),
        redirections=redirections,
        raw_rules=tuple(compiled("rawRules", item) for item in lists["rawRules"]),
        parameters=parameters,
        complete=complete,
    )


# Most ClearURLs patterns read "scheme, any subdomains, then a domain name": the domain name is
# the keyword of a Guarded pattern. A keyword is the longest run of literal characters at the
# top level of a pattern without top-level alternation: every match must contain it.
_MINIMUM_KEYWORD = 4
_IN_EVERY_URL = "https://"  # a keyword within this text rules nothing out


def _required_literal(pattern: str) -> str:
    """A literal every match of ``pattern`` contains, lowercased, or "" if none was found."""
    runs: list[str] = []
    run: list[str] = []
    previous_literal = False
    position = 0
    while position < len(pattern):
        character = pattern[position]
        literal: str | None = None
        if character == "\\":
            escaped = pattern[position + 1 : position + 2]
            if escaped and not escaped.isalnum():  # \. \/ \- \? are literals; \d \w \1 are not
                literal = escaped
            position += 2
        elif character in "[(":
            position = _skip_group(pattern, position)
        elif character == "|":
            return ""  # an alternative may match without the run
        elif character in "?*{":
            if previous_literal and run:
                run.pop()  # that character is optional or repeated
            if character == "{":
                position = pattern.find("}", position) + 1 or len(pattern)
            else:
                position += 1
        elif character in ".^$+":
            position += 1
        else:
            literal = character
            position += 1
        if literal is None:
            runs.append("".join(run))
            run = []
            previous_literal = False
        else:
            run.append(literal)
            previous_literal = True
    runs.append("".join(run))
    keyword = max(runs, key=len).lower()
    if len(keyword) < _MINIMUM_KEYWORD or keyword in _IN_EVERY_URL:
        return ""
    return keyword


def _skip_group(pattern: str, position: int) -> int:
    """Position after the class or group starting at ``position``."""
    depth, in_class = 0, False
    while position < len(pattern):
        character = pattern[position]
        if character == "\\":
            position += 2
            continue
        if in_class:
            in_class = character != "]"
        elif character == "[":
            in_class = True
            if depth == 0:
                return _end_of_class(pattern, position)
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    return position


def _end_of_class(pattern: str, position: int) -> int:
    position += 1
    while position < len(pattern):
        if pattern[position] == "\\":
            position += 2
            continue
        if pattern[position] == "]":
            return position + 1
        position += 1
    return position


def _to_shorteners(path: Path, document: dict[str, object]) -> frozenset[str]:
    hosts = document.get("shorteners", [])
    if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
        raise RulesError(path, "key 'shorteners': expected a list of host names")
    return frozenset(host.lower() for host in hosts)


# ---------------------------------------------------------------------------------------------
# Cleaning


def clean_url(url: str, rules: RuleSet | None = None) -> str:
    """Return ``url`` unwrapped from redirectors and without tracking parameters.

    Non-web URLs (``mailto:``, ``tel:``, relative, unparseable) come back unchanged;
    ``javascript:``, ``data:`` and ``vbscript:`` URLs come back as ``""`` so callers drop them.
    """
    if rules is None:
        return _clean_with_default_rules(url)
    return _clean(url, rules)


@lru_cache(maxsize=65_536)
def _clean_with_default_rules(url: str) -> str:
    # A city links its own pages again and again: repeated links cost a dictionary lookup.
    return _clean(url, default_rules())


def _clean(url: str, ruleset: RuleSet) -> str:
    candidate = _normalized(url)
    kind = _kind(candidate)
    if kind == "dropped":
        return ""
    if kind != "web":
        return url
    for _ in range(MAX_UNWRAP_DEPTH):
        target = _redirect_target(candidate, ruleset)
        if target is None:
            break
        if _kind(target) == "dropped":
            return ""  # a wrapper hiding a script link is itself a hostile link
        candidate = target
    if ruleset.blocking.applicable(candidate):
        return candidate
    return _without_tracking(candidate, ruleset)


def is_redirector(url: str, rules: RuleSet | None = None) -> bool:
    """True if ``url`` is a redirector link that :func:`clean_url` unwraps offline."""
    candidate = _normalized(url)
    if _kind(candidate) != "web":
        return False
    return _redirect_target(candidate, rules if rules is not None else default_rules()) is not None


def is_shortener(url: str, rules: RuleSet | None = None) -> bool:
    """True if ``url`` is on a link shortener (t.co, lnkd.in, ...) that only a request expands.

    Sources should take the platform API's expanded URL for such links instead.
    """
    try:
        host = urlsplit(_normalized(url)).hostname or ""
    except ValueError:
        return False
    host = host.removeprefix("www.")
    return host in (rules if rules is not None else default_rules()).shorteners


def _normalized(url: str) -> str:
    return _URL_INVISIBLE.sub("", url).strip(_URL_TRIM)


def _kind(url: str) -> str:
    """Classify as "web" (http/https with a host), "dropped" (script-like) or "other"."""
    match = _SCHEME.match(url)
    if match is None:
        return "other"
    scheme = match.group(1).lower()
    if scheme in _DROPPED_SCHEMES:
        return "dropped"
    if scheme not in _WEB_SCHEMES:
        return "other"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "other"
    return "web" if parts.hostname else "other"


def _redirect_target(url: str, rules: RuleSet) -> str | None:
    for provider in rules.redirecting.applicable(url):
        for redirection in provider.redirections:
            match = redirection.search(url)
            if match is None or not match.group(1):
                continue
            target = _to_target(match.group(1))
            if target is not None:
                return target
    return None


def _to_target(captured: str) -> str | None:
    target = captured
    for _ in range(_MAX_DECODE_ROUNDS):
        if _READABLE_TARGET.match(target):
            break
        decoded = unquote(target)
        if decoded == target:
            break
        target = decoded
    target = _UNSAFE_IN_URL.sub(lambda match: quote(match.group()), _normalized(target))
    kind = _kind(target)
    if kind == "dropped":
        return target
    if kind == "other":
        if target.startswith("//"):
            target = "https:" + target
        elif _SCHEMELESS_TARGET.match(target):
            target = "https://" + target
        else:
            return None
        if _kind(target) != "web":
            return None
    try:
        host = urlsplit(target).hostname or ""
    except ValueError:
        return None
    # A real target has a dotted host; "https://1" from a stray "u=1" is not one.
    if "." not in host.strip(".") and not host.startswith("["):
        return None
    return target


def _without_tracking(url: str, rules: RuleSet) -> str:
    has_parameters = "?" in url or "#" in url
    candidates = rules.cleaning if has_parameters else rules.path_cleaning
    applicable = candidates.applicable(url)
    for provider in applicable:
        for raw_rule in provider.raw_rules:
            url = raw_rule.sub("", url)
    if not has_parameters:
        return url
    matchers = tuple(p.parameters for p in applicable if p.parameters is not None)
    if not matchers:
        return url
    rest, hash_mark, fragment = url.partition("#")
    base, question_mark, query = rest.partition("?")
    kept_query = _kept_pairs(query, matchers, need_equals=False) if question_mark else None
    kept_fragment = (
        _kept_pairs(fragment, matchers, need_equals=True) if hash_mark and "=" in fragment else None
    )
    if kept_query is None and kept_fragment is None:
        return url
    if kept_query is not None:
        question_mark, query = ("?", kept_query) if kept_query else ("", "")
    if kept_fragment is not None:
        hash_mark, fragment = ("#", kept_fragment) if kept_fragment else ("", "")
    return f"{base}{question_mark}{query}{hash_mark}{fragment}"


def _kept_pairs(
    text: str, matchers: tuple[re.Pattern[str], ...], *, need_equals: bool
) -> str | None:
    """``text`` without tracking pairs, or None when nothing was removed."""
    pieces = text.split("&")
    kept = [piece for piece in pieces if not _is_tracking(piece, matchers, need_equals)]
    if len(kept) == len(pieces):
        return None
    return "&".join(piece for piece in kept if piece)


def _is_tracking(piece: str, matchers: tuple[re.Pattern[str], ...], need_equals: bool) -> bool:
    name, equals, _ = piece.partition("=")
    if not name or (need_equals and not equals):
        return False
    names = (name, unquote(name)) if "%" in name else (name,)
    return any(matcher.fullmatch(each) for matcher in matchers for each in names)


def print_timing() -> None:
    """Print how long loading and cleaning take; a tool for whoever changes the rules:

    python -c "from fetch.clean.links import print_timing; print_timing()"
    """
    import time

    samples = [
        "https://www.musterstadt.de/rathaus/buergerservice?id=5&utm_source=fb&utm_medium=social",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.musterstadt.de%2Ffest%3Ffbclid%3D1&h=AT",
        "https://www.musterstadt.de/aktuelles/pressemitteilungen/2025/stadtfest",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=AbCdEf",
        "https://www.instagram.com/p/C1a2b3c4/?igsh=MWZ0",
        "https://www.facebook.com/musterstadt/posts/pfbid02abc?__cft__[0]=AZX&__tn__=%2CO%2CP-R",
        "mailto:buergerbuero@musterstadt.de",
    ]
    started = time.perf_counter()
    rules = load_rules()
    print(f"read, verify and compile the rules: {(time.perf_counter() - started) * 1e3:.0f} ms")
    rounds = 10_000
    started = time.perf_counter()
    for _ in range(rounds):
        for sample in samples:
            _clean(sample, rules)
    per_url = (time.perf_counter() - started) / (rounds * len(samples))
    print(f"clean_url, a link not seen before: {per_url * 1e6:.1f} µs")
    started = time.perf_counter()
    for _ in range(rounds):
        for sample in samples:
            clean_url(sample)
    per_url = (time.perf_counter() - started) / (rounds * len(samples))
    print(f"clean_url, a link seen before (cached): {per_url * 1e6:.2f} µs")
