"""Synthetic archives of a given size, for the scale benchmark: realistic, reproducible, fast.

``generate_archive`` writes N normalized posts straight into an ``Archive`` folder, in the
archive's own layout (``posts/<account>/<slug>.json`` and ``raw/...``), from a fixed random
seed: the same arguments give the same bytes. The posts look like a city's output over years:
about 20 a day, spread over several accounts on eight platforms, each platform with its own
text lengths (an X post is short, a LinkedIn post long), links with tracking parameters
(cleaned by the real ``fetch.clean`` code, as a source would), hashtags drawn from a skewed
pool, self-threads, reposts, link cards, polls, content warnings, edits, missing alt texts.

Images are not encoded per post, which would make a 100,000-post archive take hours: a pool of
``POOL_SIZE`` photos is drawn once (``fetch.demo.photos`` scenes with sensor-like grain, so
WebP has real detail to encode), run through the real ``fetch.images.process_image`` and then
hard-linked into every archive; posts reference the pool's variants. Files are written without
fsync: this is scratch data, not an archive anyone keeps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..archive import dumps, slug
from ..clean.html import linkify_text, sanitize_html
from ..model import ImageVariant, LinkCard, Media, Origin, Poll, PollOption, Post, post_id

SEED = 20260601
POOL_SIZE = 50
POOL_VERSION = "2"  # bump when the pool's pictures change, so cached pools are redrawn
GRAIN_SIGMA = 6  # Gaussian luma noise: a drawn scene alone compresses like no photo does
POSTS_PER_DAY = 20
LAST_DAY = datetime(2026, 5, 31, tzinfo=UTC)


@dataclass(frozen=True)
class AccountSpec:
    key: str
    platform: str
    name: str
    weight: float


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("stadt", "mastodon", "Stadt Musterstadt", 0.13),
    AccountSpec("feuerwehr", "mastodon", "Feuerwehr Musterstadt", 0.07),
    AccountSpec("buecherei", "mastodon", "Stadtbücherei Musterstadt", 0.05),
    AccountSpec("stadt-facebook", "facebook", "Stadt Musterstadt", 0.16),
    AccountSpec("kultur-facebook", "facebook", "Kulturamt Musterstadt", 0.06),
    AccountSpec("feuerwehr-facebook", "facebook", "Feuerwehr Musterstadt", 0.07),
    AccountSpec("stadt-instagram", "instagram", "Stadt Musterstadt", 0.10),
    AccountSpec("buecherei-instagram", "instagram", "Stadtbücherei Musterstadt", 0.05),
    AccountSpec("stadt-x", "x", "Stadt Musterstadt", 0.09),
    AccountSpec("stadt-bluesky", "bluesky", "Stadt Musterstadt", 0.09),
    AccountSpec("stadt-linkedin", "linkedin", "Stadt Musterstadt", 0.04),
    AccountSpec("stadt-youtube", "youtube", "Stadt Musterstadt", 0.02),
    AccountSpec("stadt-telegram", "telegram", "Stadt Musterstadt", 0.07),
)

# (median characters, lower clip, upper clip, chance of 1+ images, most images, alt-text rate)
PLATFORM_SHAPE: dict[str, tuple[int, int, int, float, int, float]] = {
    "mastodon": (280, 60, 500, 0.35, 4, 0.8),
    "x": (190, 40, 280, 0.35, 4, 0.3),
    "bluesky": (200, 40, 300, 0.35, 4, 0.6),
    "facebook": (450, 60, 3000, 0.55, 4, 0.2),
    "instagram": (500, 60, 2200, 1.0, 6, 0.2),
    "linkedin": (700, 100, 3000, 0.4, 4, 0.3),
    "youtube": (400, 80, 2000, 0.0, 0, 0.0),
    "telegram": (350, 50, 4000, 0.3, 4, 0.1),
}
THREADED = frozenset({"mastodon", "x", "bluesky"})

_WORDS = (  # noqa: SIM905 (a word list reads better as prose)
    "Stadt Rathaus Bürgerbüro Baustelle Hauptstraße Umleitung Sperrung Stadtwerke Wasserleitung "
    "Kita Schule Sporthalle Freibad Stadtbücherei Lesung Ausstellung Konzert Markt Wochenmarkt "
    "Feuerwehr Einsatz Übung Rettungsdienst Hochwasser Unwetter Warnung Müllabfuhr Wertstoffhof "
    "Sperrmüll Grünschnitt Bauantrag Bebauungsplan Stadtrat Sitzung Ausschuss Haushalt Förderung "
    "Radweg Bus Bahnhof Parkhaus Ladesäule Baum Pflanzaktion Spielplatz Park Friedhof Ehrenamt "
    "Termin Öffnungszeiten Anmeldung Formular Antrag online Service Hinweis Information heute "
    "morgen ab Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Uhr bis zum vom für "
    "und mit auf in im an der die das den dem ein eine einen wir Sie unsere Ihre alle bitte "
    "neu wieder geöffnet geschlossen verlegt abgesagt gestartet fertig gesucht eingeladen herzlich "
    "danke Glückwunsch Jubiläum Sommerfest Weihnachtsmarkt Stadtfest Ferienprogramm Workshop"
).split()
_TAGS = [
    "Musterstadt", "Baustelle", "Verkehr", "Feuerwehr", "Kultur", "Bücherei", "Stadtrat",
    "Umwelt", "Klimaschutz", "Radverkehr", "Ehrenamt", "Kita", "Schule", "Sport", "Freibad",
    "Wochenmarkt", "Stadtfest", "Weihnachtsmarkt", "Abfall", "ÖPNV", "Wahl", "Bürgerbüro",
]  # fmt: skip
_TAGS += [f"Thema{n:03d}" for n in range(len(_TAGS), 200)]
_TAG_WEIGHTS = [1.0 / (rank + 1) for rank in range(len(_TAGS))]
_LINK_PATHS = ("aktuelles", "baustellen", "veranstaltungen", "bekanntmachungen", "service")
_TRACKING = ("?utm_source=social&utm_medium={p}", "?fbclid=IwAR0x{n}", "?mtm_campaign=x{n}", "")


@dataclass(frozen=True)
class PoolImage:
    variants: tuple[ImageVariant, ...]
    width: int
    height: int
    sha256: str
    stored_bytes: int  # all variants together


# -- the image pool ---------------------------------------------------------------------------
def make_image_pool(folder: Path, count: int = POOL_SIZE) -> list[PoolImage]:
    """Draw ``count`` photos once, re-encode them with ``process_image``; cached in ``folder``."""
    from ..images import process_image

    manifest = folder / "pool.json"
    try:
        stored = json.loads(manifest.read_text(encoding="utf-8"))
        if stored["version"] == POOL_VERSION and len(stored["images"]) == count:
            pool = [_pool_image(item) for item in stored["images"]]
            if all((folder / "media" / v.path).exists() for p in pool for v in p.variants):
                return pool
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    if folder.exists():
        shutil.rmtree(folder)
    media = folder / "media"
    pool = []
    for index in range(count):
        # Landscape from a camera, portrait and square as Instagram serves them.
        width, height = ((1600, 1200), (1080, 1350), (1080, 1080))[index % 5 % 3]
        data = _grainy_photo(f"bench-{index}", width, height)
        variants = process_image(data, media)
        pool.append(
            PoolImage(
                variants=variants,
                width=width,
                height=height,
                sha256=hashlib.sha256(data).hexdigest(),
                stored_bytes=sum((media / v.path).stat().st_size for v in variants),
            )
        )
    manifest.write_text(
        json.dumps(
            {"version": POOL_VERSION, "images": [dataclasses.asdict(p) for p in pool]}, indent=1
        ),
        encoding="utf-8",
    )
    return pool


def _pool_image(item: dict[str, Any]) -> PoolImage:
    return PoolImage(
        variants=tuple(ImageVariant(**v) for v in item["variants"]),
        width=item["width"],
        height=item["height"],
        sha256=item["sha256"],
        stored_bytes=item["stored_bytes"],
    )


def _grainy_photo(seed: str, width: int, height: int) -> bytes:
    from PIL import Image, ImageChops

    from ..demo.photos import draw_scene

    picture = draw_scene(seed, width, height).convert("RGB")
    noise = Image.effect_noise((width, height), GRAIN_SIGMA)
    picture = ImageChops.add(picture, Image.merge("RGB", [noise] * 3), scale=1.0, offset=-128)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def link_pool(pool_dir: Path, archive_media: Path) -> None:
    """Hard-link the pool's variant files into an archive's media folder (copy if need be)."""
    source_root = pool_dir / "media"
    for source in source_root.rglob("*.webp"):
        target = archive_media / source.relative_to(source_root)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


# -- posts ------------------------------------------------------------------------------------
def generate_posts(count: int, pool: list[PoolImage], seed: int = SEED) -> list[Post]:
    """``count`` posts, oldest first, about ``POSTS_PER_DAY`` a day up to ``LAST_DAY``."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, reproducible on purpose)
    weights = [a.weight for a in ACCOUNTS]
    days = max(1, math.ceil(count / POSTS_PER_DAY))
    first_day = LAST_DAY - timedelta(days=days - 1)
    last_of: dict[str, Post] = {}
    counters: dict[str, int] = {}
    pinned: set[str] = set()
    posts: list[Post] = []
    for index in range(count):
        day = first_day + timedelta(days=index * days // count)
        within = index % POSTS_PER_DAY
        moment = day + timedelta(
            hours=6 + within * 15 / POSTS_PER_DAY, minutes=rng.randrange(0, 40)
        )
        account = rng.choices(ACCOUNTS, weights)[0]
        counters[account.key] = counters.get(account.key, 0) + 1
        previous = last_of.get(account.key)
        reply_to = None
        if (
            previous is not None
            and account.platform in THREADED
            and rng.random() < 0.05
            and previous.repost_of is None
        ):
            reply_to = previous.id
            moment = max(moment, _parse(previous.published) + timedelta(minutes=2))
        post = _post(rng, account, index, counters[account.key], moment, reply_to, pool)
        if account.key not in pinned and rng.random() < 0.002:
            pinned.add(account.key)
            post = dataclasses.replace(post, pinned=True)
        last_of[account.key] = post
        posts.append(post)
    return posts


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _post(
    rng: random.Random,
    account: AccountSpec,
    index: int,
    number: int,
    moment: datetime,
    reply_to: str | None,
    pool: list[PoolImage],
) -> Post:
    platform = account.platform
    median, low, high, image_rate, most_images, alt_rate = PLATFORM_SHAPE[platform]
    length = int(min(high, max(low, rng.lognormvariate(math.log(median), 0.6))))
    native_id, url = _identity(rng, account, index, number)
    text, has_link = _text(rng, length, platform, index)
    if platform == "mastodon":
        from ..demo.mastodon_api import text_to_html

        text_html = sanitize_html(text_to_html(text, "musterstadt.social"))
    else:
        text_html = linkify_text(text)
    media: list[Media] = []
    if platform == "youtube":
        media.append(_media(rng, pool, "video", alt_rate=0.0, url=url))
    elif rng.random() < image_rate:
        for _ in range(1 + min(most_images - 1, int(rng.expovariate(1.2)))):
            media.append(_media(rng, pool, "image", alt_rate=alt_rate))
    card = None
    if has_link and not media and rng.random() < 0.5:
        card = LinkCard(
            url=f"https://www.musterstadt.de/{rng.choice(_LINK_PATHS)}/{index}",
            title=_sentence(rng, rng.randint(4, 10)),
            description=_sentence(rng, rng.randint(10, 30)),
            image=_media(rng, pool, "image", alt_rate=0.0) if rng.random() < 0.6 else None,
        )
    repost_of = None
    if reply_to is None and rng.random() < 0.04:
        repost_of = Origin(
            name="Landkreis Beispielkreis",
            handle="@landkreis@example.social",
            url=f"https://example.social/@landkreis/{index}",
        )
    poll = None
    if platform in ("mastodon", "x", "telegram", "linkedin") and rng.random() < 0.01:
        poll = Poll(
            options=tuple(
                PollOption(_sentence(rng, rng.randint(1, 4)), rng.randint(0, 400))
                for _ in range(rng.randint(2, 4))
            ),
            closed=True,
            voters=None,
        )
    published = moment.replace(microsecond=0).isoformat()
    edited = None
    if rng.random() < 0.03:
        edited = (moment + timedelta(minutes=rng.randint(3, 300))).replace(microsecond=0)
    tags = tuple(sorted(set(rng.choices(_TAGS, _TAG_WEIGHTS, k=rng.randint(0, 4)))))
    return Post(
        id=post_id(platform, account.key, native_id),
        platform=platform,
        account=account.key,
        native_id=native_id,
        url=url,
        published=published,
        text_html=text_html,
        language="en" if rng.random() < 0.03 else "de",
        edited=edited.isoformat() if edited else None,
        content_warning="Unfall, Verletzte" if rng.random() < 0.01 else "",
        media=tuple(media),
        card=card,
        poll=poll,
        reply_to=reply_to,
        repost_of=repost_of,
        hashtags=tags,
        title=_sentence(rng, rng.randint(5, 11)) if platform == "youtube" else "",
    )


def _identity(rng: random.Random, account: AccountSpec, index: int, number: int) -> tuple[str, str]:
    """A native id in the platform's own shape (some of them need ``slug``'s hashing)."""
    platform = account.platform
    if platform == "mastodon":
        native = str(109_000_000_000_000_000 + index * 1_000 + rng.randrange(1_000))
        return native, f"https://musterstadt.social/@{account.key}/{native}"
    if platform == "x":
        native = str(1_400_000_000_000_000_000 + index * 1_000_000 + rng.randrange(1_000_000))
        return native, f"https://x.com/musterstadt/status/{native}"
    if platform == "bluesky":
        native = "3k" + _base32(index * 4096 + rng.randrange(4096), 11)
        return native, f"https://bsky.app/profile/musterstadt.de/post/{native}"
    if platform == "facebook":
        native = f"100064{len(account.key):03d}_{10**15 + index}"
        return native, f"https://www.facebook.com/{account.key}/posts/{native.split('_')[1]}"
    if platform == "instagram":
        native = str(17_900_000_000_000_000 + index * 100 + rng.randrange(100))
        return native, f"https://www.instagram.com/p/{_base32(index, 11)}/"
    if platform == "linkedin":
        native = f"urn:li:share:{7_000_000_000_000_000_000 + index}"
        return native, f"https://www.linkedin.com/feed/update/{native}/"
    if platform == "youtube":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        native = "".join(rng.choice(alphabet) for _ in range(11))
        return native, f"https://www.youtube.com/watch?v={native}"
    native = str(1000 + number)  # telegram: message numbers of the channel
    return native, f"https://t.me/musterstadt/{native}"


def _base32(value: int, width: int) -> str:
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    digits = []
    for _ in range(width):
        value, rest = divmod(value, 32)
        digits.append(alphabet[rest])
    return "".join(reversed(digits))


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[:1].upper() + text[1:]


def _text(rng: random.Random, length: int, platform: str, index: int) -> tuple[str, bool]:
    """Plain text of about ``length`` characters: paragraphs, maybe a link, hashtags."""
    paragraphs: list[str] = []
    size = 0
    while size < length:
        sentences = [_sentence(rng, rng.randint(5, 16)) + "." for _ in range(rng.randint(1, 3))]
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    has_link = rng.random() < 0.45
    if has_link:
        tracking = rng.choice(_TRACKING).format(p=platform, n=index)
        paragraphs.append(
            f"Mehr: https://www.musterstadt.de/{rng.choice(_LINK_PATHS)}/{index}{tracking}"
        )
    tags = rng.choices(_TAGS, _TAG_WEIGHTS, k=rng.randint(0, 4))
    if tags:
        paragraphs.append(" ".join("#" + tag for tag in dict.fromkeys(tags)))
    return "\n\n".join(paragraphs), has_link


def _media(
    rng: random.Random, pool: list[PoolImage], kind: str, *, alt_rate: float, url: str = ""
) -> Media:
    picture = rng.choice(pool)
    return Media(
        kind="video" if kind == "video" else "image",
        alt=_sentence(rng, rng.randint(6, 24)) if rng.random() < alt_rate else "",
        variants=picture.variants,
        url=url,
        source=f"https://cdn.example.net/media/{picture.sha256[:16]}.jpg",
        sha256=picture.sha256,
        width=picture.width,
        height=picture.height,
    )


# -- writing ----------------------------------------------------------------------------------
def write_archive(posts: list[Post], archive_dir: Path) -> int:
    """Write posts and small raw payloads in the archive's layout; return the bytes written."""
    written = 0
    made: set[Path] = set()
    for post in posts:
        for kind, data in (
            ("posts", post.to_dict()),
            ("raw", {"id": post.native_id, "synthetic": True, "url": post.url}),
        ):
            folder = archive_dir / kind / post.account
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            content = dumps(data)
            (folder / f"{slug(post.native_id)}.json").write_bytes(content)
            written += len(content)
    (archive_dir / "FORMAT").write_text("1\n", encoding="ascii")
    return written


def generate_archive(
    archive_dir: Path, count: int, pool_dir: Path, *, seed: int = SEED, pool_count: int = POOL_SIZE
) -> dict[str, Any]:
    """Make a fresh synthetic archive of ``count`` posts; return what it holds."""
    pool = make_image_pool(pool_dir, pool_count)
    if archive_dir.exists():
        shutil.rmtree(archive_dir)
    archive_dir.mkdir(parents=True)
    posts = generate_posts(count, pool, seed)
    written = write_archive(posts, archive_dir)
    link_pool(pool_dir, archive_dir / "media")
    images = sum(1 for p in posts for m in p.media if m.variants) + sum(
        1 for p in posts if p.card and p.card.image
    )
    return {
        "posts": len(posts),
        "accounts": len({p.account for p in posts}),
        "platforms": len({p.platform for p in posts}),
        "image_references": images,
        "pool_images": len(pool),
        "pool_bytes_per_image": sum(p.stored_bytes for p in pool) / len(pool),
        "archive_json_bytes": written,
        "first": posts[0].published if posts else "",
        "last": posts[-1].published if posts else "",
    }
