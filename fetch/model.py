"""The normalized, versioned Post model that every source produces and the site reads.

A post is identified by ``platform:account:native_id``: ``account`` is the key the city gave
the account in its config (stable even when a handle changes), ``native_id`` the platform's own
id. Every field is plain data (str, int, bool, lists, nested dataclasses) so that a post
round-trips through JSON unchanged; ``SCHEMA_VERSION`` is written into every archived post so a
later release can migrate old files instead of guessing.

HTML in ``text_html`` is already sanitized and its links cleaned by ``fetch.clean``; the site
trusts it. Media refer to files in the archive by content hash, never to a platform URL.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

SCHEMA_VERSION = 1

MediaKind = Literal["image", "gifv", "video", "audio"]


@dataclass(frozen=True)
class ImageVariant:
    """One stored rendition of an image (a responsive size), relative to the archive's media dir."""

    path: str
    width: int
    height: int
    mime: str


@dataclass(frozen=True)
class Media:
    """An attachment. ``variants`` are our re-encoded copies; empty when the file was rejected.

    For video, gifv and audio the variants hold the poster image (if any): the site shows the
    poster and links out to ``url`` rather than embedding a third-party player.
    """

    kind: MediaKind
    alt: str = ""
    variants: tuple[ImageVariant, ...] = ()
    url: str = ""  # where a reader can watch/listen on the platform (video, audio)
    source: str = ""  # the platform's file URL we download from; never shown or linked
    sha256: str = ""  # hash of the original bytes as downloaded, for dedupe and audit
    rejected: str = ""  # why the media could not be re-hosted (then the site shows a placeholder)
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class LinkCard:
    url: str
    title: str = ""
    description: str = ""
    image: Media | None = None


@dataclass(frozen=True)
class PollOption:
    title: str
    votes: int | None = None


@dataclass(frozen=True)
class Poll:
    options: tuple[PollOption, ...]
    expires_at: str | None = None
    closed: bool = False
    voters: int | None = None


@dataclass(frozen=True)
class Origin:
    """The author of a shared post (a boost, repost, retweet or quote) and where it lives."""

    name: str
    handle: str = ""
    url: str = ""


@dataclass(frozen=True)
class Quote:
    origin: Origin
    text_html: str = ""
    published: str | None = None
    unavailable: str = ""  # e.g. "gelöscht", "blockiert": shown instead of the text


@dataclass(frozen=True)
class Post:
    id: str
    platform: str
    account: str
    native_id: str
    url: str
    published: str  # ISO 8601, UTC, seconds precision: "2026-03-01T08:15:00+00:00"
    text_html: str = ""
    language: str | None = None
    edited: str | None = None
    content_warning: str = ""
    media: tuple[Media, ...] = ()
    card: LinkCard | None = None
    poll: Poll | None = None
    reply_to: str | None = None  # id of our own post this one answers (a self-thread)
    repost_of: Origin | None = None  # set when the account shared someone else's post
    quote: Quote | None = None
    hashtags: tuple[str, ...] = ()
    pinned: bool = False
    title: str = ""  # for sources whose items have titles (feeds, YouTube)
    schema: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Post:
        return _build(cls, data)


def post_id(platform: str, account: str, native_id: str) -> str:
    return f"{platform}:{account}:{native_id}"


T = TypeVar("T")

# Per dataclass, how to rebuild each field: (name, converter or None for a plain value).
# Worked out once per class from its type hints: a build reads 100,000 post files.
_PLANS: dict[type[Any], list[tuple[str, Callable[[Any], Any] | None]]] = {}


def _build(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a (nested) dataclass from the dict ``dataclasses.asdict`` made of it."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan(cls)
    kwargs: dict[str, Any] = {}
    for name, convert in plan:
        if name in data:
            value = data[name]
            kwargs[name] = value if convert is None or value is None else convert(value)
    return cls(**kwargs)


def _plan(cls: type[Any]) -> list[tuple[str, Callable[[Any], Any] | None]]:
    hints = typing.get_type_hints(cls)
    return [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls)]


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """How to turn a JSON value into a value of ``hint``; None: it is one already."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _converter(inner[0]) if len(inner) == 1 else None
    if origin is tuple:
        (item, _ellipsis) = typing.get_args(hint)
        convert = _converter(item)
        if convert is None:
            return tuple
        return lambda value: tuple(None if v is None else convert(v) for v in value)
    if dataclasses.is_dataclass(hint):
        return lambda value: _build(hint, value) if isinstance(value, dict) else value  # type: ignore[arg-type]
    return None


class Published(Protocol):
    """Anything that knows which account published it: a post, or the build's note of one."""

    @property
    def account(self) -> str: ...
