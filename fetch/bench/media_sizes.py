"""``python -m fetch.bench.media_sizes``: what one photo costs to store, per variant width.

Issue 8 asks that the stored variants of a typical photo total under 150 KB. This measures the
sizes ``fetch.images`` writes, width by width, and the CPU seconds one photo costs (decode,
resize, encode: what ``process_image`` spends once in the photo's life), for:

- the benchmark's pool photos (``fetch.bench.generator``: drawn scenes with sensor-like grain,
  1600x1200 as a camera's landscape, 1080x1350 and 1080x1080 as Instagram serves them);
- :func:`realistic_photo`, a 12-megapixel phone photo made from a seed: a drawn street scene
  under texture at every scale (natural images have about equal contrast in every octave of
  detail), a smooth sky and a little sensor noise, saved as a phone saves a JPEG. Its sizes sit
  between the median and the upper third of real camera photos measured the same way;
- any photo files named on the command line, so a city can measure its own pictures.

Each photo is measured with the settings ``fetch.images`` uses now (through ``process_image``
itself, with its byte budget ``IMAGE_BYTE_BUDGET``), the same without the budget, with the
settings before issue 8 (WebP quality 75 at every width, method 4, up to 1600 px) and, for
comparison, with AVIF (which Pillow 11.2+ can write), on one thread.

    python -m fetch.bench.media_sizes [--pool 6] [--repeat 3] [--no-avif] [photo.jpg ...]

Prints two Markdown tables: each photo's bytes per width, its total and its seconds; then per
settings, for the pool photos and for the others, the mean, median and largest total, the
share of photos over the budget and the mean seconds per photo. Not a test: nothing here
asserts a size or a time.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, features

from .. import images
from ..demo.photos import draw_scene
from .generator import _grainy_photo

POOL_SHAPES = ((1600, 1200), (1080, 1350), (1080, 1080))  # as generator.make_image_pool draws
REALISTIC_SIZE = (4000, 3000)  # a 12-megapixel phone camera
REALISTIC_JPEG_QUALITY = 92  # phones save JPEGs at about 90-95
# Contrast of the texture per octave of detail (cell size in pixels at 4000 px wide, share of
# the full range): a little more in the middle scales (leaves, bricks, gravel), which survive
# the downscaling to the variants' widths.
TEXTURE_OCTAVES = ((256, 0.08), (128, 0.08), (64, 0.10), (32, 0.12), (16, 0.12), (8, 0.12),
                   (4, 0.10), (2, 0.08))  # fmt: skip
SKY_TEXTURE = 0.15  # the sky keeps this share of the texture: clouds and haze, not foliage
SENSOR_NOISE = 0.03


@dataclass(frozen=True)
class Settings:
    """How the variants of one photo are encoded."""

    name: str
    widths: tuple[int, ...]
    quality: Callable[[int], int]  # variant width -> encoder quality
    method: int = 4  # WebP effort 0-6
    avif: bool = False  # AVIF (speed 6, one thread) instead of WebP
    current: bool = False  # fetch.images.process_image itself
    byte_budget: int | None = None  # process_image's byte_budget, when current


_NOW = (
    f"WebP, {'/'.join(str(w) for w in images.IMAGE_WIDTHS)} px, quality "
    f"{'/'.join(str(images.webp_quality(w)) for w in images.IMAGE_WIDTHS)}, "
    f"method {images.WEBP_METHOD}"
)
CURRENT = Settings(
    f"now: {_NOW}, at most {images.WEBP_MAX_QUALITY_DROP} lower to keep to "
    f"{images.IMAGE_BYTE_BUDGET / 1000:.0f} KB",
    images.IMAGE_WIDTHS,
    images.webp_quality,
    images.WEBP_METHOD,
    current=True,
    byte_budget=images.IMAGE_BYTE_BUDGET,
)
UNBUDGETED = Settings(
    f"without budget: {_NOW}",
    images.IMAGE_WIDTHS,
    images.webp_quality,
    images.WEBP_METHOD,
    current=True,
)
BEFORE = Settings(
    "before: WebP, 480/960/1600 px, quality 75, method 4", (480, 960, 1600), lambda _: 75
)
AVIF = Settings(
    f"AVIF, {'/'.join(str(w) for w in images.IMAGE_WIDTHS)} px, quality 50/55/60, speed 6",
    images.IMAGE_WIDTHS,
    lambda width: 60 if width <= 480 else 55 if width <= 960 else 50,
    avif=True,
)


@dataclass
class Measurement:
    photo: str
    settings: Settings
    bytes_by_width: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0  # CPU seconds to decode, resize and encode, the fastest of the repeats

    @property
    def total(self) -> int:
        return sum(self.bytes_by_width.values())


def realistic_photo(
    seed: str = "marktplatz", width: int = REALISTIC_SIZE[0], height: int = REALISTIC_SIZE[1]
) -> bytes:
    """A JPEG like a phone's, the same bytes for the same arguments (and Pillow version).

    ``random.Random(seed)`` draws the texture, so the picture does not depend on the state of
    Pillow's own noise generator.
    """
    rng = random.Random(seed)  # noqa: S311 (reproducible test pictures, not secrets)
    scene = draw_scene(seed, width, height).filter(ImageFilter.GaussianBlur(0.7))  # a lens
    texture = Image.new("L", (width, height), 128)
    scale = width / REALISTIC_SIZE[0]
    for cell, contrast in TEXTURE_OCTAVES:
        layer = _noise(rng, width, height, max(1, round(cell * scale)), contrast)
        texture = ImageChops.add(texture, layer, scale=1.0, offset=-128)
    # Full texture below the horizon (between 52 % and 64 % of the height in draw_scene),
    # SKY_TEXTURE of it above.
    mask = (
        Image.linear_gradient("L")
        .resize((width, height))
        .point(lambda v: round(255 * (SKY_TEXTURE + (1 - SKY_TEXTURE) * _ramp(v / 255))))
    )
    texture = Image.composite(texture, Image.new("L", (width, height), 128), mask)
    texture = ImageChops.add(
        texture, _noise(rng, width, height, 1, SENSOR_NOISE), scale=1.0, offset=-128
    )
    picture = ImageChops.add(scene, Image.merge("RGB", [texture] * 3), scale=1.0, offset=-128)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=REALISTIC_JPEG_QUALITY)
    return buffer.getvalue()


def _ramp(share: float) -> float:
    return min(1.0, max(0.0, (share - 0.4) / 0.2))


def _noise(rng: random.Random, width: int, height: int, cell: int, contrast: float) -> Image.Image:
    """Uniform noise around 128, one value per ``cell`` pixels, smoothly interpolated."""
    small_width, small_height = max(2, -(-width // cell)), max(2, -(-height // cell))
    small = Image.frombytes(
        "L", (small_width, small_height), rng.randbytes(small_width * small_height)
    )
    layer = small.resize((width, height), Image.Resampling.BICUBIC) if cell > 1 else small
    return layer.point(lambda v: round(128 + (v - 128) * contrast))


def measure(photo: str, data: bytes, settings: Settings, repeat: int = 1) -> Measurement:
    """Encode ``data`` with ``settings`` ``repeat`` times; sizes and the fastest time."""
    result = Measurement(photo, settings)
    best = float("inf")
    for _ in range(max(1, repeat)):
        with tempfile.TemporaryDirectory() as folder:
            # CPU time of this process, not the clock: all of it runs on this one thread, and
            # another program busy on the same machine does not count into it.
            started = time.process_time()
            if settings.current:
                variants = images.process_image(
                    data, Path(folder), byte_budget=settings.byte_budget
                )
                sizes = {v.width: (Path(folder) / v.path).stat().st_size for v in variants}
            else:
                sizes = _encode_variants(data, settings)
            best = min(best, time.process_time() - started)
        result.bytes_by_width = dict(sorted(sizes.items()))
    result.seconds = best
    return result


def _encode_variants(data: bytes, settings: Settings) -> dict[int, int]:
    """What ``process_image`` does (same decode, same resizing chain), with other encoders."""
    decoded = images._decode(data, max_pixels=images.MAX_PIXELS, largest_width=max(settings.widths))
    current = decoded.image
    sizes: dict[int, int] = {}
    for width, height in images._variant_sizes(decoded.width, decoded.height, settings.widths):
        if current.size != (width, height):
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        buffer = io.BytesIO()
        if settings.avif:
            current.save(buffer, "AVIF", quality=settings.quality(width), speed=6, max_threads=1)
        else:
            current.save(buffer, "WEBP", quality=settings.quality(width), method=settings.method)
        sizes[width] = len(buffer.getvalue())
    return sizes


def photos(pool: int, files: Sequence[Path]) -> list[tuple[str, bytes]]:
    """The pool's first ``pool`` photos, the realistic photo, then the files given."""
    chosen = []
    for index in range(pool):
        width, height = POOL_SHAPES[index % 5 % 3]
        chosen.append(
            (f"pool {index} ({width}x{height})", _grainy_photo(f"bench-{index}", width, height))
        )
    width, height = REALISTIC_SIZE
    chosen.append((f"realistic ({width}x{height})", realistic_photo()))
    for path in files:
        chosen.append((path.name, path.read_bytes()))
    return chosen


def table(measurements: list[Measurement]) -> str:
    widths = sorted({w for m in measurements for w in m.bytes_by_width})
    header = ["photo", "settings", *(f"{w} px KB" for w in widths), "total KB", "s/photo"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", "---"] + ["---:"] * (len(header) - 2)) + "|",
    ]
    for item in measurements:
        cells = [
            f"{item.bytes_by_width[w] / 1000:.1f}" if w in item.bytes_by_width else ""
            for w in widths
        ]
        lines.append(
            f"| {item.photo} | {item.settings.name} | "
            + " | ".join(cells)
            + f" | **{item.total / 1000:.1f}** | {item.seconds:.2f} |"
        )
    return "\n".join(lines)


def summary(measurements: list[Measurement]) -> str:
    """Per settings, for the pool photos and for the others: totals, share over the budget, time.

    "over budget" counts the photos whose variants total more than ``IMAGE_BYTE_BUDGET``.
    """
    budget = images.IMAGE_BYTE_BUDGET
    lines = [
        "",
        "| settings | photos | mean KB | median KB | max KB "
        f"| over {budget / 1000:.0f} KB | mean s/photo |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for settings in dict.fromkeys(m.settings for m in measurements):
        own = [m for m in measurements if m.settings is settings]
        groups = {
            "pool": [m for m in own if m.photo.startswith("pool ")],
            "others": [m for m in own if not m.photo.startswith("pool ")],
        }
        for group, chosen in groups.items():
            if not chosen:
                continue
            totals = [m.total for m in chosen]
            over = sum(total > budget for total in totals)
            lines.append(
                f"| {settings.name} | {group} ({len(chosen)}) "
                f"| {statistics.mean(totals) / 1000:.1f} "
                f"| {statistics.median(totals) / 1000:.1f} | {max(totals) / 1000:.1f} "
                f"| {over} ({over / len(chosen):.0%}) "
                f"| {statistics.mean(m.seconds for m in chosen):.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fetch.bench.media_sizes", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("files", nargs="*", type=Path, help="photos of your own to measure too")
    parser.add_argument("--pool", type=int, default=6, help="pool photos to measure (default 6)")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the fastest counts")
    parser.add_argument("--no-avif", action="store_true", help="skip the AVIF comparison")
    options = parser.parse_args(argv)
    candidates = [CURRENT, UNBUDGETED, BEFORE]
    if not options.no_avif and features.check_module("avif"):
        candidates.append(AVIF)
    measurements = [
        measure(name, data, settings, options.repeat)
        for name, data in photos(options.pool, options.files)
        for settings in candidates
    ]
    print(table(measurements))
    print(summary(measurements))
    return 0


if __name__ == "__main__":
    sys.exit(main())
