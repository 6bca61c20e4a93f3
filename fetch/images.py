"""Turn an untrusted image into clean, responsive WebP files named by their content hash.

This module owns the "strip, resize" step of the media stage. It gets the bytes a platform
served and returns the ``ImageVariant`` files the archive keeps; of the original only the
pixels survive. Nothing the camera, the phone or an editing program wrote (EXIF with its GPS
position, XMP, IPTC, ICC profiles, JPEG comments, PNG text chunks) can reach a reader, because
the pixels are copied into a new image before anything is encoded.

What happens to one file, in order:

1. **Identify** with the decoders in ``ACCEPTED_FORMATS`` only. Pillow would otherwise also
   try formats such as EPS, which it hands to Ghostscript, an external interpreter.
2. **Refuse bombs** from the header alone: more than ``max_pixels`` pixels is refused before
   a single pixel is decoded, and Pillow's own ``DecompressionBombWarning`` counts as an error
   (inside ``warnings.catch_warnings``, so the process's warning filters stay as they were).
3. **Decode** once, for JPEG already scaled down by the decoder (``draft``) to the smallest
   size that still covers the largest variant; truncated files fail here, because
   ``ImageFile.LOAD_TRUNCATED_IMAGES`` is left at False. GIF, WebP and PNG animations give
   their first frame.
4. **Normalize**: turn upright by the EXIF orientation, convert from an embedded ICC profile to
   sRGB, reduce to RGB (or RGBA when some pixel is not fully opaque), and copy the pixels into
   a fresh image that has no metadata at all.
5. **Resize and encode**: one WebP per width in ``widths`` that is not wider than the picture,
   from the largest to the smallest, each made from the one before it, at the quality
   ``webp_quality`` gives its width.
6. **Keep to the budget**: when the variants together are larger than ``IMAGE_BYTE_BUDGET``
   (a very detailed photo: grass, rock, foliage), all but the smallest are encoded again, from
   the resized pixels still in memory, at lower qualities, down to ``WEBP_MAX_QUALITY_DROP``
   below their own. Nothing is decoded twice.
7. **Store** as ``<media_dir>/<ab>/<abcdef...>-<width>.webp``, named by the SHA-256 of the
   encoded bytes, written atomically and skipped when the file exists: processing the same
   image twice writes nothing.

A file that cannot be used raises ``MediaError`` naming the reason; the media stage records
it as the attachment's ``rejected`` text. A file that cannot be written raises
``ArchiveError``: that is the archive's problem, not the image's.

Pillow's image file formats: https://pillow.readthedocs.io/en/stable/handbook/image-file-formats.html
Its notes on decompression bombs: https://pillow.readthedocs.io/en/stable/reference/Image.html#PIL.Image.open
WebP encoder options (quality, method): https://developers.google.com/speed/webp/docs/cwebp
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Final

from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError, features

from fetch.errors import ArchiveError, MediaError
from fetch.model import ImageVariant

IMAGE_WIDTHS: Final[tuple[int, ...]] = (480, 960, 1280)
"""Widths of the responsive variants, in pixels: a phone's column (and 2x thumbnails), a
desktop column or a 2x phone column, and a 2x desktop column or a full view. The site's
``srcset`` lists whichever of them an image has; images stored before with a 1600-px variant
keep it (a stored file is never encoded again).

1280 and not 1600: the largest variant held most of a photo's bytes (186 of 216 KB for a
benchmark photo), and 1280 px has 64 % of the pixels of 1600 px. Measured with
``python -m fetch.bench.media_sizes``; the figures are in ``docs/betrieb/medien.md``."""

MAX_PIXELS: Final = 50_000_000
"""The largest picture accepted, counted from its header. Platforms serve smaller files than
this; 50 Mpx still admits a full-resolution shot from a 48 Mpx phone camera (8064x6048) and
decodes to at most 150 MB as RGB."""

WEBP_QUALITIES: Final[tuple[tuple[int, int], ...]] = ((480, 78), (960, 70), (1280, 60))
"""(up to this width, quality): the wider a variant, the lower its WebP quality. A wide variant
is shown where pixels are dense (a 2x display, a full view), where compression artifacts are
small on the screen; the 480-px one is often seen at one pixel per pixel. Wider than the last
width: the last quality."""
# libwebp's effort from 0 to 6 (4 is cwebp's default). Measured on seven photos: 5 stores 7 %
# fewer bytes than 4 (a fifth fewer for grainy ones) for 6 % more time; 6 saves 4 % more than 5
# for 50 % more time. With the largest variant at 1280 px, a photo at 5 still takes less time
# than it did at 1600 px with 4.
WEBP_METHOD: Final = 5

IMAGE_BYTE_BUDGET: Final = 150_000
"""The most bytes the variants of one image should take together: issue 8's 150 KB (of 1000
bytes) for a photo. The typical photo stays below it at the qualities of ``WEBP_QUALITIES``
(twelve real camera photos: median 120 KB) and is stored exactly as without a budget; only
very detailed ones (grass, rock, foliage: up to 420 KB) are encoded again at lower qualities.
A lower figure would lower typical photos too (at 120 KB, half of those twelve).
``python -m fetch.bench.media_sizes`` prints the totals and the share over the budget."""

WEBP_MAX_QUALITY_DROP: Final = 15
"""How far the budget may lower a variant's quality below its ``WEBP_QUALITIES`` value: the
floor is 45 for the 1280-px variant and 55 for the 960-px one. All lowered variants go down by
the same amount, so the wider one stays the more compressed. Measured with SSIMULACRA2 on the
six of those twelve photos over the budget: 15 points save 14 to 24 % of the two variants'
bytes for 4 to 11 points of score, which leaves 37 to 67 at 1280 px and 43 to 70 at 960 px
(50 is medium quality, 70 high); the next 5 points would save 5 to 10 % more for 2 to 6 more
points, and 25 points down the grass of a meadow is smoothed into smears. A photo still over
the budget at the floor is stored at the floor."""

# Every quality point below the default takes 1.0 to 2.0 % off a real photo's lowered variants
# (1.0 % for smooth pictures, 1.9 % for grass; measured from -5 to -20 points). The first guess
# assumes 1.2 %, so it rather overshoots a little than needs another encode; later guesses use
# the rate measured on the photo itself. Each of the six real photos over the budget took one
# more encode of its wider variants (three fitted, three reached the floor).
_FIRST_GUESS_BYTES_PER_QUALITY: Final = 0.012

WEBP_MIME: Final = "image/webp"
WEBP_MAX_SIDE: Final = 16383  # the format's limit: https://developers.google.com/speed/webp/faq

# 32 hex digits are 128 bits of SHA-256: no collision among a city's images, and short URLs.
HASH_DIGITS: Final = 32

ACCEPTED_FORMATS: Final[tuple[str, ...]] = ("JPEG", "PNG", "WEBP", "GIF") + (
    ("AVIF",) if features.check_module("avif") else ()
)
"""Pillow decoders tried, in this order. Everything else (EPS, PSD, TIFF, ...) is refused."""

# The EXIF orientations that turn the picture by a quarter, so width and height swap.
_QUARTER_TURNS: Final = frozenset({5, 6, 7, 8})
_SIXTEEN_BIT_GREY: Final = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class _Decoded:
    """A clean picture, possibly already scaled down, and the size the original has upright."""

    image: Image.Image
    width: int
    height: int


def process_image(
    data: bytes,
    media_dir: Path,
    *,
    widths: tuple[int, ...] = IMAGE_WIDTHS,
    max_pixels: int = MAX_PIXELS,
    byte_budget: int | None = IMAGE_BYTE_BUDGET,
) -> tuple[ImageVariant, ...]:
    """Store clean WebP variants of the image in ``data`` under ``media_dir``; smallest first.

    There is one variant for each of ``widths`` that the upright picture is at least as wide
    as, and one at the picture's own width when it is narrower than all of them, so an image
    is never enlarged. ``max_pixels`` can lower the limit below Pillow's own
    (``Image.MAX_IMAGE_PIXELS``), not raise it. ``byte_budget`` is the most bytes all variants
    should take together (``IMAGE_BYTE_BUDGET``); ``None`` keeps the default qualities.

    Raises ``MediaError`` when the bytes are not an accepted, complete image of a sane size,
    and ``ArchiveError`` when a file cannot be written.
    """
    if not widths or min(widths) < 1:
        raise ValueError(f"widths must be positive pixel counts, not {widths!r}")
    decoded = _decode(data, max_pixels=max_pixels, largest_width=max(widths))
    pictures: list[Image.Image] = []
    current = decoded.image
    for width, height in _variant_sizes(decoded.width, decoded.height, widths):
        if current.size != (width, height):
            # reducing_gap lets Pillow shrink by whole factors first: much faster from a large
            # original, and at 3 "indistinguishable" from plain resampling (Pillow's docs).
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        pictures.append(current)
    # Nothing is written before the budget has decided, so a file once stored is final.
    variants = [
        _save_variant(encoded, picture.width, picture.height, media_dir)
        for picture, encoded in zip(
            pictures, _encode_within_budget(pictures, byte_budget), strict=True
        )
    ]
    return tuple(sorted(variants, key=lambda variant: variant.width))


def probe_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Width and height of the image as displayed (EXIF orientation applied), from its header.

    Cheaper than ``process_image``: the pixels are not decoded (except for a PNG whose EXIF
    follows its image data), so a file that passes may still be truncated; only
    ``process_image`` proves that an image is usable. Raises ``MediaError`` like it.
    """
    with _decoding(data), Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as image:
        _check_pixels(image.size, max_pixels)
        return _upright_size(image.size, _orientation(image))


def _decode(data: bytes, *, max_pixels: int, largest_width: int) -> _Decoded:
    with _decoding(data), Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as image:
        _check_pixels(image.size, max_pixels)
        orientation = _orientation(image)
        width, height = _upright_size(image.size, orientation)
        target = min(largest_width, width)
        # Ask a JPEG decoder for the smallest size (1/2, 1/4 or 1/8) still covering the largest
        # variant; other formats ignore draft(). The mode stays: colour is handled below.
        covering = (target, max(1, -(-target * height // width)))
        if orientation in _QUARTER_TURNS:
            covering = (covering[1], covering[0])
        image.draft(None, covering)
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        return _Decoded(_fresh_copy(_to_srgb(image)), width, height)


@contextlib.contextmanager
def _decoding(data: bytes) -> Iterator[None]:
    """Map everything a decoder can raise on hostile bytes to a ``MediaError``."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # A process-wide switch some library or notebook may have flipped; with it, a cut-off
        # download would be archived with a grey lower half instead of being refused.
        raise RuntimeError("fetch.images needs PIL.ImageFile.LOAD_TRUNCATED_IMAGES to be False")
    if not data:
        raise MediaError("the file is empty")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except MediaError:
            raise
        except UnidentifiedImageError as error:
            raise MediaError(
                f"not an image in an accepted format ({', '.join(ACCEPTED_FORMATS)})"
            ) from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise MediaError(f"refused as a possible decompression bomb: {error}") from error
        # Decoders, the EXIF parser and LittleCMS, fed crafted input, raise OSError,
        # SyntaxError, ValueError, struct.error, EOFError, IndexError and more; each of them
        # means this one file is unusable, never that the run should stop.
        except Exception as error:
            raise MediaError(f"the image is truncated or corrupt: {error}") from error


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise MediaError(f"the image claims an empty size of {width}x{height} pixels")
    if width * height > max_pixels:
        raise MediaError(
            f"refused as a possible decompression bomb: {width}x{height} pixels "
            f"is more than the limit of {max_pixels}"
        )


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in _QUARTER_TURNS else size


def _to_srgb(image: Image.Image) -> Image.Image:
    """The picture in sRGB, as RGB, or as RGBA when some pixel is not fully opaque."""
    profile = image.info.get("icc_profile")
    # First a mode LittleCMS and WebP understand; convert() keeps the ICC profile in info.
    if image.mode in _SIXTEEN_BIT_GREY:
        # convert("L") would clip 16-bit values at 255 and turn the picture white.
        image = image.convert("I").point(lambda value: value / 257).convert("L")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif image.mode in ("LA", "La", "RGBa"):
        image = image.convert("RGBA")
    elif image.mode not in ("L", "RGB", "RGBA", "CMYK"):
        image = image.convert("RGB")

    output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    if isinstance(profile, bytes) and profile:
        image = _from_profile(image, profile, output_mode)
    if image.mode != output_mode:
        image = image.convert(output_mode)
    if output_mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    return image


def _from_profile(image: Image.Image, profile: bytes, output_mode: str) -> Image.Image:
    """``image`` converted from its ICC ``profile`` to sRGB in ``output_mode``.

    Unchanged when the profile is an sRGB one already, as on most Android phones and cameras:
    the transform costs about 12 ns a pixel for nothing. Unchanged, too, when the profile is
    broken or made for another colour space than the pixels: browsers then show the pixels as
    sRGB, and so do we, rather than lose the picture.
    """
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(profile))
        description = ImageCms.getProfileDescription(source).strip()
        if image.mode in ("RGB", "RGBA") and description.startswith("sRGB"):
            return image
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _fresh_copy(image: Image.Image) -> Image.Image:
    """The pixels alone, in a new image: no info dict, so no EXIF, XMP, ICC, comment, text."""
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)
    return fresh


def _variant_sizes(width: int, height: int, widths: tuple[int, ...]) -> list[tuple[int, int]]:
    """Sizes to encode, largest first, keeping the aspect ratio; never wider than the original.

    A very tall picture (a long screenshot) is made narrower still, until its height fits
    WebP's ``WEBP_MAX_SIDE``.
    """
    fitting = sorted({wanted for wanted in widths if wanted <= width}, reverse=True) or [width]
    sizes: list[tuple[int, int]] = []
    for wanted in fitting:
        size = (wanted, max(1, round(height * wanted / width)))
        if size[1] > WEBP_MAX_SIDE:
            size = (max(1, round(width * WEBP_MAX_SIDE / height)), WEBP_MAX_SIDE)
        if size not in sizes:
            sizes.append(size)
    return sizes


def webp_quality(width: int) -> int:
    """The WebP quality for a variant ``width`` pixels wide (``WEBP_QUALITIES``)."""
    for up_to, quality in WEBP_QUALITIES:
        if width <= up_to:
            return quality
    return WEBP_QUALITIES[-1][1]


def _encode_within_budget(pictures: list[Image.Image], byte_budget: int | None) -> list[bytes]:
    """WebP files of ``pictures`` (largest first), together within ``byte_budget`` if they can be.

    First every picture at its own quality (``webp_quality``). Over the budget, all but the
    smallest are encoded again, their qualities lowered together by a drop estimated from the
    bytes: the smallest is the thumbnail in listings, seen at one pixel per pixel, and holds
    the fewest bytes (a lone variant is lowered itself). Each estimate assumes the bytes fall
    by a steady share per quality point (``_FIRST_GUESS_BYTES_PER_QUALITY``, then the rate this
    photo showed); the drop grows by at least one point a round and stops at
    ``WEBP_MAX_QUALITY_DROP``: one or two more rounds of encoding, never more than fifteen.
    """
    encoded = [_encode_webp(picture, webp_quality(picture.width)) for picture in pictures]
    if byte_budget is None:
        return encoded
    lowered = max(1, len(pictures) - 1)
    kept = sum(len(data) for data in encoded[lowered:])
    first = current = sum(len(data) for data in encoded[:lowered])
    drop, rate = 0, _FIRST_GUESS_BYTES_PER_QUALITY
    while kept + current > byte_budget and drop < WEBP_MAX_QUALITY_DROP:
        room = byte_budget - kept
        needed = math.log(current / room) / rate if room > 0 else WEBP_MAX_QUALITY_DROP
        drop = min(WEBP_MAX_QUALITY_DROP, drop + max(1, math.ceil(needed)))
        encoded[:lowered] = [
            _encode_webp(picture, max(0, webp_quality(picture.width) - drop))
            for picture in pictures[:lowered]
        ]
        current = sum(len(data) for data in encoded[:lowered])
        if current < first:
            rate = math.log(first / current) / drop
    return encoded


def _encode_webp(image: Image.Image, quality: int) -> bytes:
    buffer = BytesIO()
    try:
        image.save(buffer, format="WEBP", quality=quality, method=WEBP_METHOD)
    except (OSError, ValueError) as error:
        raise MediaError(f"cannot encode a {image.width}x{image.height} WebP: {error}") from error
    return buffer.getvalue()


def _save_variant(encoded: bytes, width: int, height: int, media_dir: Path) -> ImageVariant:
    digest = hashlib.sha256(encoded).hexdigest()[:HASH_DIGITS]
    relative = f"{digest[:2]}/{digest}-{width}.webp"
    target = media_dir / digest[:2] / f"{digest}-{width}.webp"
    if not target.exists():
        _write_atomically(target, encoded)
    return ImageVariant(path=relative, width=width, height=height, mime=WEBP_MIME)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write through a temporary file in the same directory, fsync, then rename into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise ArchiveError(f"cannot create {target.parent}: {error}") from error
    try:
        with os.fdopen(descriptor, "wb") as file:
            # mkstemp creates the file readable by its owner only; a web server must read it.
            os.fchmod(file.fileno(), 0o644)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ArchiveError(f"cannot write {target}: {error}") from error
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
