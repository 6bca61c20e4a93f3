"""LinkedIn: the public posts of one organization page (the city as an employer).

API reference (versioned "Community Management API", every request carries the
``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version: 2.0.0`` headers):

- posts: https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api
  (``GET /rest/posts?q=author&author={encoded organization URN}&sortBy=LAST_MODIFIED``,
  paged with ``start`` and ``count``);
- the text format of ``commentary``:
  https://learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format
- images: https://learn.microsoft.com/linkedin/marketing/community-management/shares/images-api
  (``GET /rest/images/{urn}`` gives a ``downloadUrl`` that expires: the media stage downloads
  it in the same run);
- videos: https://learn.microsoft.com/linkedin/marketing/community-management/shares/videos-api
  (``GET /rest/videos/{urn}``: the ``thumbnail`` is shown, the video is linked);
- versions: https://learn.microsoft.com/linkedin/marketing/versioning (a version is served for
  about a year; an old one is refused with 426 ``NONEXISTENT_VERSION``);
- errors: https://learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling

What the mirror does:

- Only ``PUBLISHED`` posts with ``PUBLIC`` visibility are archived: drafts, posts for
  followers or logged-in members only, and sponsored "dark" posts never are.
- Posts come newest-modified first. The state keeps the newest ``lastModifiedAt`` seen; a run
  stops at the first post not modified since, so an edit shows up in the next run and a run
  with nothing new makes one request.
- ``native_id`` is the post's URN (``urn:li:share:…`` or ``urn:li:ugcPost:…``); the archive
  stores it under a hashed file name, since a URN holds colons (``fetch.archive.slug``).
- The "little" text format becomes safe HTML: escapes are read, mentions keep the name,
  hashtag templates become hashtags. ``lnkd.in`` short links never reach a reader: with an
  article the link becomes the article's (cleaned) address, otherwise the text stays and the
  link goes.
- Tokens come from 3-legged OAuth with ``r_organization_social``: an access token lives 60
  days (a refresh token 365). LinkedIn tells the expiry only when the token is made, so the
  city may note it in the config (``options: {token_expires: 2027-01-15}``); from 14 days
  ahead every run warns, and the state records ``token_expires_at``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from ..clean.html import linkify_text
from ..clean.links import clean_url, is_shortener
from ..errors import AuthError, NotFoundError, PayloadError, SourceError
from ..model import LinkCard, Media, Poll, PollOption, Post, post_id
from ..times import normalize_time
from .base import AccountConfig, FetchContext, Fetched, Param, Secret, Source

# The API version this module was written and tested against (YYYYMM). LinkedIn serves a
# version for about a year; a city can move ahead without a release via
# ``options: {linkedin_version: "YYYYMM"}`` in its config.
LINKEDIN_VERSION = "202605"
RESTLI_PROTOCOL_VERSION = "2.0.0"
POSTS_PATH = "/rest/posts"
IMAGES_PATH = "/rest/images/{urn}"
VIDEOS_PATH = "/rest/videos/{urn}"
PAGE_SIZE = 50  # the finder allows up to 100; 50 keeps a page of posts small
WEB_POST_URL = "https://www.linkedin.com/feed/update/{urn}/"
TOKEN_WARNING_DAYS = 14
ARCHIVED_STATES = frozenset({"PUBLISHED"})
ARCHIVED_VISIBILITY = frozenset({"PUBLIC"})
# Poll durations as the Posts API names them.
_POLL_DURATIONS = {
    "ONE_DAY": dt.timedelta(days=1),
    "THREE_DAYS": dt.timedelta(days=3),
    "SEVEN_DAYS": dt.timedelta(days=7),
    "FOURTEEN_DAYS": dt.timedelta(days=14),
}
_VERSION = re.compile(r"^20\d\d(0[1-9]|1[0-2])$")
_URL = re.compile(r"https?://[^\s<>\"`]+", re.IGNORECASE)


class LinkedInSource(Source):
    name: ClassVar[str] = "linkedin"
    label: ClassVar[str] = "LinkedIn"
    docs: ClassVar[str] = "plattformen/linkedin.md"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "organization_id",
            "the number of the organization page (from urn:li:organization:<number>)",
            example="98765432",
        ),
    )
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("token", "an access token with r_organization_social (Community Management API)"),
    )
    default_api_base: ClassVar[str] = "https://api.linkedin.com"

    def fetch(self, context: FetchContext) -> Iterator[Fetched]:
        account = context.account
        state = context.state
        version = str(account.options.get("linkedin_version") or LINKEDIN_VERSION)
        if not _VERSION.match(version):
            raise SourceError(
                f"options.linkedin_version must be a month as YYYYMM, not {version!r}",
                account=account.key,
            )
        note_token_expiry(context, account.options.get("token_expires"))
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {account.secrets.get('token', '')}",
            "LinkedIn-Version": version,
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
        }
        author = organization_urn(account.params["organization_id"])
        since = _int(state.get("last_modified_at"))
        newest = since
        start = 0
        for _page in range(context.max_pages):
            # Rest.li wants the URN percent-encoded inside the query, colons included.
            url = (
                f"{account.api_base}{POSTS_PATH}?q=author&author={quote(author, safe='')}"
                f"&count={PAGE_SIZE}&start={start}&sortBy=LAST_MODIFIED"
            )
            data = _get_json(context, url, headers)
            elements = data.get("elements") if isinstance(data, dict) else None
            if not isinstance(elements, list):
                raise PayloadError("expected a list of posts", account=account.key, url=url)
            reached_known = False
            for element in elements:
                if not isinstance(element, dict) or not element.get("id"):
                    context.log.warning("%s: skipped a post without id", account.key)
                    continue
                modified = _int(element.get("lastModifiedAt")) or _int(element.get("createdAt"))
                if since is not None and modified is not None and modified <= since:
                    reached_known = True
                    break
                if modified is not None:
                    newest = modified if newest is None else max(newest, modified)
                if not is_archivable(element):
                    continue
                raw = self._with_media(context, element, headers)
                try:
                    post = to_post(raw, account)
                except (KeyError, TypeError, ValueError) as exc:
                    context.log.warning(
                        "%s: skipped malformed post %s (%s)", account.key, element.get("id"), exc
                    )
                    continue
                yield Fetched(post, raw)
            if reached_known or len(elements) < PAGE_SIZE:
                break
            start += len(elements)
        if newest is not None:
            state["last_modified_at"] = newest

    def _with_media(
        self, context: FetchContext, element: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        """The post with its images and videos resolved: their download URLs expire, so they
        are asked for only for posts that are archived now, and downloaded in the same run."""
        images: dict[str, Any] = {}
        videos: dict[str, Any] = {}
        for urn in media_urns(element):
            kind = urn.split(":")[2] if urn.count(":") >= 3 else ""
            path = {"image": IMAGES_PATH, "video": VIDEOS_PATH}.get(kind)
            if path is None:
                continue
            url = f"{context.account.api_base}{path.format(urn=quote(urn, safe=''))}"
            try:
                entity = _get_json(context, url, headers)
            except NotFoundError:
                context.log.warning("%s: %s no longer exists", context.account.key, urn)
                entity = {"id": urn, "status": "NOT_FOUND"}
            (images if kind == "image" else videos)[urn] = entity
        raw: dict[str, Any] = {"post": element}
        if images:
            raw["images"] = images
        if videos:
            raw["videos"] = videos
        return raw


def organization_urn(organization_id: str) -> str:
    value = str(organization_id).strip()
    return value if value.startswith("urn:li:") else f"urn:li:organization:{value}"


def note_token_expiry(context: FetchContext, expires: Any, today: dt.date | None = None) -> None:
    """Warn from 14 days before the date the city noted for its token; record it in the state."""
    if expires in (None, ""):
        context.state.pop("token_expires_at", None)
        return
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    if not isinstance(expires, dt.date):
        try:
            expires = dt.date.fromisoformat(str(expires).strip())
        except ValueError:
            raise SourceError(
                f"options.token_expires must be a date like 2027-01-15, not {expires!r}",
                account=context.account.key,
            ) from None
    context.state["token_expires_at"] = expires.isoformat()
    days = (expires - (today or dt.datetime.now(dt.UTC).date())).days
    if days < 0:
        context.log.warning(
            "%s: the LinkedIn access token expired on %s (options.token_expires): renew it "
            "(see docs/plattformen/linkedin.md)",
            context.account.key,
            expires.isoformat(),
        )
    elif days < TOKEN_WARNING_DAYS:
        context.log.warning(
            "%s: the LinkedIn access token expires in %d days, on %s: renew it now "
            "(see docs/plattformen/linkedin.md)",
            context.account.key,
            days,
            expires.isoformat(),
        )


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _get_json(context: FetchContext, url: str, headers: dict[str, str]) -> Any:
    """GET through the shared client; LinkedIn's auth and version refusals get clear advice."""
    try:
        return context.http.get_json(url, headers=headers, account=context.account.key)
    except AuthError as exc:
        text = str(exc)
        if "EXPIRED_ACCESS_TOKEN" in text:
            advice = (
                "the access token has expired (they live 60 days): get a new one with the "
                "refresh token or sign in again"
            )
        elif exc.status == 403:
            advice = (
                "the token may not read this page's posts: it needs the r_organization_social "
                "permission of the Community Management API, and the person who made it must "
                "be an administrator of the page"
            )
        else:
            advice = "LinkedIn rejected the access token (expired, revoked or mistyped)"
        raise AuthError(
            f"{text.split(' | ', 1)[0]}. {advice} (see docs/plattformen/linkedin.md)",
            account=exc.account,
            url=exc.url,
            status=exc.status,
        ) from exc
    except SourceError as exc:
        if exc.status in (400, 426) and ("VERSION" in str(exc) or exc.status == 426):
            raise SourceError(
                f"{str(exc).split(' | ', 1)[0]}. LinkedIn refused the API version "
                f"{headers.get('LinkedIn-Version')}: set a current month in "
                "options.linkedin_version or update Aushang",
                account=exc.account,
                url=exc.url,
                status=exc.status,
            ) from exc
        raise


def is_archivable(element: dict[str, Any]) -> bool:
    """Published posts everyone can see; never drafts, member-only or sponsored dark posts."""
    if element.get("lifecycleState") not in ARCHIVED_STATES:
        return False
    if element.get("visibility") not in ARCHIVED_VISIBILITY:
        return False
    distribution = element.get("distribution") or {}
    return distribution.get("feedDistribution") != "NONE"  # "dark" posts, for ads only


def media_urns(element: dict[str, Any]) -> list[str]:
    """Every image or video URN the post shows, in order (the article thumbnail last)."""
    content = element.get("content") or {}
    urns: list[str] = []
    media = content.get("media") or {}
    if media.get("id"):
        urns.append(str(media["id"]))
    for image in (content.get("multiImage") or {}).get("images") or []:
        if image.get("id"):
            urns.append(str(image["id"]))
    thumbnail = (content.get("article") or {}).get("thumbnail")
    if thumbnail:
        urns.append(str(thumbnail))
    return urns


# ---------------------------------------------------------------------------------------------
# Conversion (pure)


def to_post(raw: dict[str, Any], account: AccountConfig) -> Post:
    """Convert one post (with its resolved images and videos) into a Post. Pure: no I/O."""
    element = raw["post"]
    images = raw.get("images") or {}
    videos = raw.get("videos") or {}
    urn = str(element["id"])
    url = WEB_POST_URL.format(urn=urn)
    content = element.get("content") or {}
    article = content.get("article") or {}
    article_url = clean_url(str(article.get("source") or "")) if article else ""
    if article_url and is_shortener(article_url):
        article_url = ""  # only LinkedIn could say where it leads
    text, hashtags = little_to_text(str(element.get("commentary") or ""))
    text = replace_short_links(text, article_url)
    poll = content.get("poll")
    if poll and poll.get("question") and str(poll["question"]) not in text:
        text = f"{text}\n\n{poll['question']}".strip()

    media: list[Media] = []
    item = content.get("media") or {}
    if item.get("id"):
        media.extend(
            _to_media(str(item["id"]), str(item.get("altText") or ""), images, videos, url)
        )
    for image in (content.get("multiImage") or {}).get("images") or []:
        if image.get("id"):
            media.extend(
                _to_media(str(image["id"]), str(image.get("altText") or ""), images, videos, url)
            )

    card = None
    if article_url:
        thumbnail = str(article.get("thumbnail") or "")
        card_image = None
        if thumbnail and _download_url(images.get(thumbnail)):
            card_image = Media(
                kind="image",
                alt=str(article.get("thumbnailAltText") or "").strip(),
                source=_download_url(images.get(thumbnail)),
            )
        card = LinkCard(
            url=article_url,
            title=str(article.get("title") or "").strip(),
            description=str(article.get("description") or "").strip(),
            image=card_image,
        )
    published_ms = _int(element.get("publishedAt")) or _int(element.get("createdAt"))
    if published_ms is None:
        raise ValueError("post without publishedAt or createdAt")
    published = _from_millis(published_ms)
    edited = None
    modified = _int(element.get("lastModifiedAt"))
    if (element.get("lifecycleStateInfo") or {}).get("isEditedByAuthor") and modified:
        edited = _from_millis(modified)
    extra: dict[str, Any] = {}
    reshare = (element.get("reshareContext") or {}).get("parent")
    if reshare:
        extra["reshare_of"] = WEB_POST_URL.format(urn=reshare)
        if card is None:
            card = LinkCard(url=WEB_POST_URL.format(urn=reshare))
    return Post(
        id=post_id(LinkedInSource.name, account.key, urn),
        platform=LinkedInSource.name,
        account=account.key,
        native_id=urn,
        url=url,
        published=published,
        edited=edited,
        text_html=linkify_text(text),
        media=tuple(media),
        card=card,
        poll=_to_poll(poll, published_ms) if poll else None,
        hashtags=tuple(hashtags),
        extra=extra,
    )


def _to_media(
    urn: str, alt: str, images: dict[str, Any], videos: dict[str, Any], post_url: str
) -> list[Media]:
    kind = urn.split(":")[2] if urn.count(":") >= 3 else ""
    if kind == "image":
        entity = images.get(urn) or {}
        source = _download_url(entity)
        return [
            Media(
                kind="image",
                alt=alt.strip(),
                source=source,
                rejected="" if source else "nicht mehr verfügbar",
                width=_int(entity.get("width")) if entity else None,
                height=_int(entity.get("height")) if entity else None,
            )
        ]
    if kind == "video":
        entity = videos.get(urn) or {}
        return [
            Media(
                kind="video",
                alt=alt.strip(),
                source=str(entity.get("thumbnail") or ""),
                url=post_url,
            )
        ]
    return []  # documents and other content are left to the post's own page


def _download_url(entity: Any) -> str:
    if not isinstance(entity, dict) or entity.get("status") not in (None, "AVAILABLE"):
        return ""
    return str(entity.get("downloadUrl") or "")


def _to_poll(poll: dict[str, Any], published_ms: int) -> Poll:
    duration = _POLL_DURATIONS.get(str((poll.get("settings") or {}).get("duration")))
    expires = (
        _from_millis(published_ms + int(duration.total_seconds() * 1000)) if duration else None
    )
    return Poll(
        options=tuple(
            PollOption(title=str(option.get("text") or ""), votes=_int(option.get("voteCount")))
            for option in poll.get("options") or []
        ),
        expires_at=expires,
    )


def _from_millis(value: int) -> str:
    return normalize_time(dt.datetime.fromtimestamp(value // 1000, tz=dt.UTC))


# ---------------------------------------------------------------------------------------------
# The "little" text format


def little_to_text(commentary: str) -> tuple[str, list[str]]:
    """Plain text of a ``commentary`` in LinkedIn's little format, and its hashtags.

    ``\\x`` is a literal ``x``; ``@[Name](urn:li:organization:123)`` is a mention, shown as the
    name; ``{hashtag|\\#|Name}`` is the hashtag ``#Name``. Anything malformed stays as text.
    """
    out: list[str] = []
    hashtags: list[str] = []
    position = 0
    length = len(commentary)
    while position < length:
        char = commentary[position]
        if char == "\\" and position + 1 < length:
            out.append(commentary[position + 1])
            position += 2
            continue
        if char == "@" and commentary.startswith("[", position + 1):
            name, after = _until(commentary, position + 2, "]")
            if after is not None and commentary.startswith("(", after):
                target, end = _until(commentary, after + 1, ")")
                if end is not None and target.startswith("urn:li:"):
                    out.append(name)
                    position = end
                    continue
        if char == "{":
            body, end = _until(commentary, position + 1, "}", raw=True)
            if end is not None:
                parts = _split_unescaped(body, "|")
                if len(parts) == 3 and parts[0] == "hashtag":
                    tag = _unescape(parts[2]).lstrip("#").strip()
                    if tag:
                        out.append(f"#{tag}")
                        if tag.lower() not in {h.lower() for h in hashtags}:
                            hashtags.append(tag)
                        position = end
                        continue
        out.append(char)
        position += 1
    return "".join(out), hashtags


def _until(text: str, start: int, closing: str, *, raw: bool = False) -> tuple[str, int | None]:
    """The text up to an unescaped ``closing`` (escapes read unless ``raw``), and what follows."""
    out: list[str] = []
    position = start
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            out.append(text[position : position + 2] if raw else text[position + 1])
            position += 2
            continue
        if char == closing:
            return "".join(out), position + 1
        out.append(char)
        position += 1
    return "", None


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, position = [], [], 0
    while position < len(text):
        if text[position] == "\\" and position + 1 < len(text):
            current.append(text[position : position + 2])
            position += 2
            continue
        if text[position] == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(text[position])
        position += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def replace_short_links(text: str, article_url: str) -> str:
    """``lnkd.in`` (and other shorteners) never reach a reader as a link: they become the
    article's address when the post shares one, otherwise plain text without the scheme, which
    the linkifier leaves alone."""

    def replace(match: re.Match[str]) -> str:
        url = match.group(0)
        trailing = ""
        while url and url[-1] in ".,:;!?)»“\"'":
            trailing = url[-1] + trailing
            url = url[:-1]
        if not is_shortener(url):
            return match.group(0)
        if article_url:
            return article_url + trailing
        return re.sub(r"^https?://", "", url, flags=re.IGNORECASE) + trailing

    return _URL.sub(replace, text)
