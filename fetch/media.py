"""Media stage of a fetch: download every image a post shows and re-host it without metadata.

A platform's media URL is downloaded once, when the post is first seen (Facebook's signed URLs
expire within days), and re-encoded by ``fetch.images``. The result is remembered by the hash
of the downloaded bytes in ``media/index/<hash>.json``, and a post seen again reuses the
variants of its previous version: a run with nothing new decodes no image at all.

A file that cannot be re-encoded safely leaves its post published, with a placeholder and the
alt text. A download that failed for a passing reason is retried on the next run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

from .archive import dumps, write_atomic
from .errors import MediaError, SourceError
from .http import Http
from .images import process_image
from .model import ImageVariant, LinkCard, Media, Post

log = logging.getLogger("aushang.media")

PENDING = "pending"  # ``Media.rejected`` of a download that failed for a passing reason


@dataclasses.dataclass
class MediaStats:
    downloaded: int = 0
    reused: int = 0
    rejected: int = 0
    pending: int = 0


class MediaStore:
    def __init__(self, media_dir: Path, http: Http, *, account: str = "") -> None:
        self.media_dir = media_dir
        self.http = http
        self.account = account
        self.stats = MediaStats()

    def rehost_post(self, post: Post, previous: Post | None) -> Post:
        """The post with every media item re-hosted (or reused from ``previous``)."""
        known: dict[str, Media] = {}
        if previous is not None:
            for item in _all_media(previous):
                if item.source and (item.variants or (item.rejected and item.rejected != PENDING)):
                    known[item.source] = item
        media = tuple(self._rehost(item, known) for item in post.media)
        card = post.card
        if card is not None and card.image is not None:
            card = LinkCard(
                url=card.url,
                title=card.title,
                description=card.description,
                image=self._rehost(card.image, known),
            )
        return dataclasses.replace(post, media=media, card=card)

    def _rehost(self, item: Media, known: dict[str, Media]) -> Media:
        if not item.source or item.variants:
            return item
        if item.source in known:
            self.stats.reused += 1
            old = known[item.source]
            # The size too: a download sets it from the file, so a reuse must give the same
            # (sources that do not know the size, e.g. Telegram photos, would change otherwise).
            return dataclasses.replace(
                item,
                variants=old.variants,
                sha256=old.sha256,
                rejected=old.rejected,
                width=old.width if old.variants else item.width,
                height=old.height if old.variants else item.height,
            )
        try:
            data = self.http.download(item.source, account=self.account)
        except SourceError as exc:
            log.warning("%s: media download failed, will retry next run: %s", self.account, exc)
            self.stats.pending += 1
            return dataclasses.replace(item, rejected=PENDING)
        digest = hashlib.sha256(data).hexdigest()
        self.stats.downloaded += 1
        try:
            variants = self.variants_for(data, digest)
        except MediaError as exc:
            log.warning(
                "%s: media rejected (%s): %s", self.account, exc, self.http.redact(item.source)
            )
            self.stats.rejected += 1
            return dataclasses.replace(item, sha256=digest, rejected=str(exc) or "rejected")
        first = variants[-1]
        return dataclasses.replace(
            item,
            variants=variants,
            sha256=digest,
            rejected="",
            width=first.width,
            height=first.height,
        )

    def variants_for(self, data: bytes, digest: str) -> tuple[ImageVariant, ...]:
        """Re-encode once per distinct file: the index maps the download's hash to its variants."""
        index = self.media_dir / "index" / digest[:2] / f"{digest}.json"
        try:
            stored = json.loads(index.read_bytes())
            variants = tuple(ImageVariant(**v) for v in stored["variants"])
            if all((self.media_dir / v.path).exists() for v in variants):
                self.stats.reused += 1
                return variants
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            pass
        variants = process_image(data, self.media_dir)
        write_atomic(index, dumps({"variants": [dataclasses.asdict(v) for v in variants]}))
        return variants


def _all_media(post: Post) -> list[Media]:
    items = list(post.media)
    if post.card is not None and post.card.image is not None:
        items.append(post.card.image)
    return items


def has_pending_media(post: Post) -> bool:
    return any(item.rejected == PENDING for item in _all_media(post))


def retry_pending(post: Post) -> Post:
    """The post with its pending media reset, so ``rehost_post`` tries them again."""

    def reset(item: Media) -> Media:
        return dataclasses.replace(item, rejected="") if item.rejected == PENDING else item

    card = post.card
    if card is not None and card.image is not None:
        card = dataclasses.replace(card, image=reset(card.image))
    return dataclasses.replace(post, media=tuple(reset(m) for m in post.media), card=card)
