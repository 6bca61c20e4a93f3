"""The contract every platform module fulfils.

A source is one module in ``fetch/sources/`` holding a ``Source`` subclass. It declares what it
needs (public parameters, secrets), does its I/O through the ``Http`` it is handed, and keeps the
conversion from platform payloads to ``Post`` in pure functions (``to_post``) that are tested
from golden files without a network.

``fetch`` yields ``Fetched`` items newest or oldest first, as the platform pages; it returns the
new cursor state through ``FetchContext.state`` only once a whole pass succeeded, so a run that
fails half-way re-reads the same posts next time instead of skipping them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..http import Http
from ..model import Post


@dataclass(frozen=True)
class Param:
    """A configuration key an account of this platform takes."""

    name: str
    description: str
    required: bool = True
    example: str = ""


@dataclass(frozen=True)
class Secret:
    """A secret an account of this platform needs, read from the environment variable the city
    names in its config under ``<name>_env`` (for example ``token_env: MUSTERSTADT_X_TOKEN``)."""

    name: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class AccountConfig:
    """One configured account, validated. ``params`` holds the platform-specific keys."""

    key: str
    platform: str
    name: str
    api_base: str
    params: dict[str, str]
    secrets: dict[str, str] = field(repr=False, default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class FetchContext:
    account: AccountConfig
    http: Http
    state: dict[str, Any]  # the source's own cursors; written back by the orchestrator on success
    log: logging.Logger
    max_pages: int = 50  # how far back a first run pages; later runs page only what is new
    known_ids: frozenset[str] = frozenset()  # native ids already in the archive
    # What a run cost on platforms that bill per item read (X: posts read); the orchestrator
    # copies them into the account's run report.
    counters: dict[str, int] = field(default_factory=dict)
    # Posts a source re-read while answering ``check_exists``, as the platform shows them now:
    # the orchestrator stores those that changed, so an edit of a recent post reaches the site.
    refreshed: list[Fetched] = field(default_factory=list)


@dataclass(frozen=True)
class Fetched:
    post: Post
    raw: dict[str, Any]


class Source:
    """Base class: subclasses set the ClassVars and implement ``fetch``."""

    name: ClassVar[str]  # registry key, used in configs: "mastodon"
    label: ClassVar[str]  # shown to readers: "Mastodon"
    docs: ClassVar[str]  # docs page, relative to docs/: "plattformen/mastodon.md"
    params: ClassVar[tuple[Param, ...]]
    secrets: ClassVar[tuple[Secret, ...]] = ()
    default_api_base: ClassVar[str] = ""  # may contain {param} placeholders

    def api_base(self, params: dict[str, str]) -> str:
        return self.default_api_base.format(**params).rstrip("/")

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        raise NotImplementedError

    def check_exists(self, context: FetchContext, post: Post) -> bool | None:
        """Ask the platform whether an archived post still exists (``fetch.lifecycle``).

        ``True``: it exists. ``False``: the platform POSITIVELY says it is gone (its own endpoint
        answered 404/410, i.e. ``Http`` raised ``NotFoundError``): the post leaves the site.
        ``None``: unknown or unsupported (the default). Never return ``False`` for a timeout, a
        5xx, a rate limit or a post merely missing from a listing; let such errors propagate
        (they stop the re-checks of this run) or return ``None``.
        """
        return None
