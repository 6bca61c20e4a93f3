"""Every platform Aushang can mirror, by the name a config uses for it.

Adding a platform means adding its module to ``fetch/sources/`` and one line to ``_SOURCES``;
``tests/test_sources_conformance.py`` then checks that it declares what it needs and has
fixtures and a docs page.
"""

from __future__ import annotations

from .base import Source
from .bluesky import BlueskySource
from .facebook import FacebookSource
from .feed import FeedSource
from .instagram import InstagramSource
from .linkedin import LinkedInSource
from .mastodon import MastodonSource
from .telegram import TelegramSource
from .threads import ThreadsSource
from .x import XSource
from .youtube import YouTubeSource

_SOURCES: tuple[Source, ...] = (
    MastodonSource(),
    BlueskySource(),
    FeedSource(),
    YouTubeSource(),
    TelegramSource(),
    XSource(),
    LinkedInSource(),
    FacebookSource(),
    InstagramSource(),
    ThreadsSource(),
)
SOURCES: dict[str, Source] = {source.name: source for source in _SOURCES}


def get(name: str) -> Source | None:
    return SOURCES.get(name)


def names() -> list[str]:
    return sorted(SOURCES)


def all_sources() -> list[Source]:
    return [SOURCES[name] for name in names()]
