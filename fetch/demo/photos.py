"""Deterministic demo photos for Musterstadt, carrying the metadata a phone camera would leave.

The demo server serves these bytes as if they were a platform's media files, and the tests feed
them to ``fetch.images`` to prove that nothing but pixels survives. So each picture is drawn
from its seed alone (a sky, hills, a row of gabled houses, trees, a street) and can carry, on
request, every kind of metadata the stripping must remove:

    EXIF      Make, Model, DateTime, DateTimeOriginal, Artist      JPEG, PNG (eXIf), WebP
    GPS       an EXIF GPS IFD with a position in Germany          JPEG, PNG (eXIf), WebP
    XMP       an RDF packet with creator, title and city          JPEG, PNG (iTXt), WebP
    ICC       Pillow's built-in sRGB profile                      JPEG, PNG (iCCP), WebP
    comment   a JPEG COM segment or a PNG ``Comment`` text chunk  JPEG, PNG
    text      PNG tEXt, zTXt and iTXt chunks                      PNG
    IPTC      an APP13 "Photoshop 3.0" block with IIM records     JPEG

Asking for metadata a format cannot carry here raises ``ValueError`` rather than quietly
producing a file that would let a test pass without testing anything.

Same arguments, same bytes: the scene's numbers come from SHA-256 in counter mode, not from
``random``, so the output does not depend on the Python version, and no clock is read.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Sequence
from io import BytesIO
from typing import Final, TypeVar

from PIL import Image, ImageCms, ImageDraw
from PIL.ExifTags import GPS, IFD, Base
from PIL.PngImagePlugin import PngInfo

FORMATS: Final = ("JPEG", "PNG", "WEBP")
JPEG_QUALITY: Final = 85
WEBP_QUALITY: Final = 85

CITY: Final = "Musterstadt"
ARTIST: Final = "Pressestelle Musterstadt"
CAMERA_MAKE: Final = "Musterkamera"
CAMERA_MODEL: Final = "MK-1 Rathaus"

# A box around Germany, for GPS positions that look plausible on a map.
LATITUDES: Final = (47.5, 54.5)
LONGITUDES: Final = (6.5, 14.5)

Colour = tuple[int, int, int]
T = TypeVar("T")

# (sky at the top, sky at the horizon, sun)
SKIES: Final[tuple[tuple[Colour, Colour, Colour], ...]] = (
    ((96, 150, 214), (250, 214, 170), (255, 236, 180)),  # morning
    ((52, 124, 206), (178, 214, 240), (255, 250, 220)),  # noon
    ((58, 62, 128), (246, 152, 96), (255, 196, 120)),  # evening
    ((146, 158, 174), (214, 218, 224), (236, 238, 240)),  # overcast
)
WALLS: Final[tuple[Colour, ...]] = (
    (236, 222, 196),
    (242, 200, 160),
    (214, 228, 210),
    (244, 232, 168),
    (226, 206, 214),
    (204, 218, 232),
    (250, 246, 236),
)
ROOFS: Final[tuple[Colour, ...]] = ((160, 64, 48), (124, 52, 44), (88, 92, 104), (178, 96, 60))
GREENS: Final[tuple[Colour, ...]] = ((72, 128, 64), (92, 146, 72), (58, 108, 60))

# How to store an upright scene so that a viewer applying the EXIF orientation (as Pillow's
# ``ImageOps.exif_transpose`` does) shows it upright again: the inverse of the viewer's turn.
# Mirrorings and the half turn undo themselves; the quarter turns swap.
_STORED: Final[dict[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # the viewer turns it back with ROTATE_270
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,  # the viewer turns it back with ROTATE_90
}


def make_photo(
    seed: str,
    *,
    width: int = 1600,
    height: int = 1200,
    fmt: str = "JPEG",
    exif: bool = True,
    gps: bool = True,
    orientation: int = 1,
    xmp: bool = False,
    icc: bool = False,
    comment: bool = False,
    text_chunk: bool = False,
    iptc: bool = False,
) -> bytes:
    """Draw the scene for ``seed`` and encode it as ``fmt`` with the requested metadata.

    ``width`` and ``height`` are the size as displayed. With an ``orientation`` other than 1
    the pixels are stored turned the way a phone camera stores them, and the EXIF Orientation
    tag says how to turn them back: ``orientation=6`` with ``width=1200, height=1600`` stores
    a 1600x1200 landscape that a correct viewer shows as an upright 1200x1600 portrait. The
    EXIF block is written when any of ``exif``, ``gps`` or a non-default ``orientation`` asks
    for it.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be positive, not {width}x{height}")
    if orientation not in range(1, 9):
        raise ValueError(f"orientation must be an EXIF orientation 1..8, not {orientation}")
    _check_carriable(fmt, comment=comment, text_chunk=text_chunk, iptc=iptc)

    picture = draw_scene(seed, width, height)
    if orientation in _STORED:
        picture = picture.transpose(_STORED[orientation])

    details = _Dice(f"{seed}/metadata")
    taken = _timestamp(details)
    options: dict[str, object] = {}
    if exif or gps or orientation != 1:
        options["exif"] = _exif(details, taken, camera=exif, gps=gps, orientation=orientation)
    if icc:
        options["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    packet = _xmp_packet(seed, taken) if xmp else ""

    if fmt == "JPEG":
        if xmp:
            options["xmp"] = packet.encode()
        if comment:
            options["comment"] = f"{CITY}: {seed}".encode()
        encoded = _save(picture, "JPEG", quality=JPEG_QUALITY, **options)
        return _insert_jpeg_segment(encoded, _iptc_segment(seed, taken)) if iptc else encoded
    if fmt == "PNG":
        chunks = PngInfo()
        if xmp:
            chunks.add_itxt("XML:com.adobe.xmp", packet)
        if comment:
            chunks.add_text("Comment", f"{CITY}: {seed}")
        if text_chunk:
            chunks.add_text("Title", f"{CITY}, Motiv {seed}")
            chunks.add_text("Copyright", f"© {ARTIST}", zip=True)
            chunks.add_itxt("Description", f"Ansicht von {CITY}", lang="de", tkey="Beschreibung")
        return _save(picture, "PNG", pnginfo=chunks, **options)
    if xmp:
        options["xmp"] = packet.encode()
    return _save(picture, "WEBP", quality=WEBP_QUALITY, **options)


def draw_scene(seed: str, width: int, height: int) -> Image.Image:
    """An upright RGB picture of a small-town street, the same for the same arguments.

    Flat colours and one smooth gradient keep a 1600x1200 JPEG well under 200 KB while still
    looking like a picture (and giving a resizer edges to get wrong).
    """
    dice = _Dice(seed)
    top, horizon_colour, sun = dice.pick(SKIES)
    horizon = round(height * dice.between(0.52, 0.64))
    street = round(height * dice.between(0.86, 0.92))

    picture = _vertical_gradient(width, height, top, horizon_colour, horizon)
    draw = ImageDraw.Draw(picture)
    unit = min(width, height)

    sun_radius = unit * dice.between(0.05, 0.08)
    sun_x, sun_y = width * dice.between(0.1, 0.9), horizon * dice.between(0.2, 0.5)
    draw.ellipse(
        (sun_x - sun_radius, sun_y - sun_radius, sun_x + sun_radius, sun_y + sun_radius), fill=sun
    )
    for _cloud in range(2 + int(dice.between(0, 3))):
        _draw_cloud(draw, dice, width * dice.between(0, 1), horizon * dice.between(0.1, 0.6), unit)

    _draw_hills(draw, dice, width, height, horizon)
    draw.rectangle((0, horizon, width, street), fill=dice.pick(GREENS))
    draw.rectangle((0, street, width, height), fill=(118, 118, 124))
    dash = max(1, round(unit * 0.006))
    lane = (street + height) // 2
    for start in range(0, width, max(2, round(width * 0.08))):
        draw.rectangle(
            (start, lane - dash, start + width * 0.04, lane + dash), fill=(232, 232, 220)
        )

    x = width * dice.between(-0.04, 0.03)
    tower_at = int(dice.between(0, 5))
    index = 0
    while x < width:
        if index == tower_at:
            x = _draw_tower(draw, dice, x, street, width, height)
        elif dice.unit() < 0.25:
            x = _draw_tree(draw, dice, x, street, width, height)
        else:
            x = _draw_house(draw, dice, x, street, width, height)
        x += width * dice.between(0.01, 0.04)
        index += 1
    return picture


class _Dice:
    """Numbers drawn from a seed by hashing it with a counter: stable across Python releases."""

    def __init__(self, seed: str) -> None:
        self._seed = seed.encode()
        self._counter = 0

    def unit(self) -> float:
        """A number in [0, 1)."""
        digest = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
        self._counter += 1
        return int.from_bytes(digest[:8], "big") / 2**64

    def between(self, low: float, high: float) -> float:
        return low + (high - low) * self.unit()

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.unit() * len(options))]


def _vertical_gradient(
    width: int, height: int, top: Colour, bottom: Colour, horizon: int
) -> Image.Image:
    """Sky from ``top`` to ``bottom`` at the horizon; one column drawn, then stretched."""
    column = bytearray()
    span = max(1, horizon)
    for row in range(height):
        share = min(1.0, row / span)
        column += bytes(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
    return Image.frombytes("RGB", (1, height), bytes(column)).resize(
        (width, height), Image.Resampling.NEAREST
    )


def _draw_cloud(draw: ImageDraw.ImageDraw, dice: _Dice, x: float, y: float, unit: int) -> None:
    size = unit * dice.between(0.04, 0.08)
    shade = round(dice.between(236, 252))
    for puff in range(4):
        offset_x = (puff - 1.5) * size * 0.9
        offset_y = -size * 0.35 if puff in (1, 2) else 0.0
        radius = size * (0.9 if puff in (1, 2) else 0.65)
        draw.ellipse(
            (
                x + offset_x - radius,
                y + offset_y - radius * 0.7,
                x + offset_x + radius,
                y + offset_y + radius * 0.7,
            ),
            fill=(shade, shade, min(255, shade + 3)),
        )


def _draw_hills(
    draw: ImageDraw.ImageDraw, dice: _Dice, width: int, height: int, horizon: int
) -> None:
    for depth, colour in enumerate(((128, 156, 150), (104, 146, 104))):
        phase, frequency = dice.between(0, math.tau), dice.between(1.5, 3.5)
        amplitude = height * (0.05 - 0.015 * depth)
        steps = 24
        ridge = [
            (
                width * step / steps,
                horizon
                - amplitude * (1.2 + math.sin(phase + frequency * math.tau * step / steps))
                + depth * height * 0.02,
            )
            for step in range(steps + 1)
        ]
        draw.polygon([*ridge, (width, horizon + 1), (0, horizon + 1)], fill=colour)


def _draw_house(
    draw: ImageDraw.ImageDraw, dice: _Dice, x: float, ground: int, width: int, height: int
) -> float:
    house_width = width * dice.between(0.08, 0.14)
    wall_height = height * dice.between(0.16, 0.26)
    roof_height = house_width * dice.between(0.35, 0.6)
    wall_top = ground - wall_height
    draw.rectangle((x, wall_top, x + house_width, ground), fill=dice.pick(WALLS))
    draw.polygon(
        [
            (x - house_width * 0.05, wall_top),
            (x + house_width / 2, wall_top - roof_height),
            (x + house_width * 1.05, wall_top),
        ],
        fill=dice.pick(ROOFS),
    )
    lit = dice.unit() < 0.5
    glass = (250, 232, 150) if lit else (70, 88, 108)
    columns = 2 + int(dice.between(0, 2))
    pane = house_width / (2 * columns + 1)
    for floor in range(2):
        top = wall_top + wall_height * (0.12 + 0.36 * floor)
        for column in range(columns):
            left = x + pane * (1 + 2 * column)
            draw.rectangle((left, top, left + pane, top + wall_height * 0.2), fill=glass)
    door = house_width * 0.16
    middle = x + house_width / 2
    draw.rectangle(
        (middle - door / 2, ground - wall_height * 0.24, middle + door / 2, ground),
        fill=(96, 64, 44),
    )
    return x + house_width


def _draw_tower(
    draw: ImageDraw.ImageDraw, dice: _Dice, x: float, ground: int, width: int, height: int
) -> float:
    """The church tower every Musterstadt skyline has."""
    tower_width = width * dice.between(0.05, 0.07)
    tower_top = ground - height * dice.between(0.34, 0.42)
    draw.rectangle((x, tower_top, x + tower_width, ground), fill=(214, 204, 186))
    draw.polygon(
        [
            (x - tower_width * 0.1, tower_top),
            (x + tower_width / 2, tower_top - tower_width * 1.8),
            (x + tower_width * 1.1, tower_top),
        ],
        fill=(72, 110, 100),
    )
    clock = tower_width * 0.28
    middle, clock_y = x + tower_width / 2, tower_top + tower_width * 0.6
    draw.ellipse(
        (middle - clock, clock_y - clock, middle + clock, clock_y + clock), fill=(246, 240, 224)
    )
    return x + tower_width


def _draw_tree(
    draw: ImageDraw.ImageDraw, dice: _Dice, x: float, ground: int, width: int, height: int
) -> float:
    crown = width * dice.between(0.03, 0.05)
    trunk_height = height * dice.between(0.06, 0.1)
    middle = x + crown
    draw.rectangle(
        (middle - crown * 0.15, ground - trunk_height, middle + crown * 0.15, ground),
        fill=(104, 72, 48),
    )
    leaves = dice.pick(GREENS)
    crown_y = ground - trunk_height - crown * 0.6
    draw.ellipse((x, crown_y - crown, x + 2 * crown, crown_y + crown), fill=leaves)
    darker = tuple(round(channel * 0.85) for channel in leaves)
    draw.ellipse(
        (x + crown * 0.5, crown_y - crown * 0.2, x + crown * 1.7, crown_y + crown),
        fill=(darker[0], darker[1], darker[2]),
    )
    return x + 2 * crown


def _check_carriable(fmt: str, *, comment: bool, text_chunk: bool, iptc: bool) -> None:
    unsupported = [
        name
        for name, wanted, formats in (
            ("comment", comment, ("JPEG", "PNG")),
            ("text_chunk", text_chunk, ("PNG",)),
            ("iptc", iptc, ("JPEG",)),
        )
        if wanted and fmt not in formats
    ]
    if unsupported:
        raise ValueError(f"this generator cannot put {', '.join(unsupported)} into {fmt}")


def _timestamp(dice: _Dice) -> str:
    """An EXIF date ("YYYY:MM:DD HH:MM:SS") in daylight hours of 2015..2025, from the seed."""
    year = 2015 + int(dice.between(0, 11))
    month, day = 1 + int(dice.between(0, 12)), 1 + int(dice.between(0, 28))
    hour, minute = 8 + int(dice.between(0, 11)), int(dice.between(0, 60))
    return f"{year:04}:{month:02}:{day:02} {hour:02}:{minute:02}:00"


def _exif(dice: _Dice, taken: str, *, camera: bool, gps: bool, orientation: int) -> bytes:
    exif = Image.Exif()
    if camera:
        exif[Base.Make] = CAMERA_MAKE
        exif[Base.Model] = CAMERA_MODEL
        exif[Base.DateTime] = taken
        exif[Base.Artist] = ARTIST
        exif.get_ifd(IFD.Exif)[Base.DateTimeOriginal] = taken
    if orientation != 1:
        exif[Base.Orientation] = orientation
    if gps:
        latitude, longitude = dice.between(*LATITUDES), dice.between(*LONGITUDES)
        position = exif.get_ifd(IFD.GPSInfo)
        position[GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        position[GPS.GPSLatitudeRef] = "N"
        position[GPS.GPSLatitude] = _degrees_minutes_seconds(latitude)
        position[GPS.GPSLongitudeRef] = "E"
        position[GPS.GPSLongitude] = _degrees_minutes_seconds(longitude)
        position[GPS.GPSAltitudeRef] = b"\x00"
        position[GPS.GPSAltitude] = round(dice.between(30, 600), 1)
    return exif.tobytes()


def _degrees_minutes_seconds(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 2)
    return (float(degrees), float(minutes), seconds)


def _xmp_packet(seed: str, taken: str) -> str:
    date = taken.replace(":", "-", 2).replace(" ", "T")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        f'    photoshop:City="{CITY}"\n'
        f'    xmp:CreateDate="{date}">\n'
        f"   <dc:creator><rdf:Seq><rdf:li>{ARTIST}</rdf:li></rdf:Seq></dc:creator>\n"
        '   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
        f"{CITY}, Motiv {_xml_text(seed)}</rdf:li></rdf:Alt></dc:title>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iptc_segment(seed: str, taken: str) -> bytes:
    """A JPEG APP13 segment: "Photoshop 3.0", one 8BIM resource 0x0404 holding IIM records."""
    date = taken[:10].replace(":", "")

    def record(number: int, dataset: int, value: bytes) -> bytes:
        return struct.pack(">BBBH", 0x1C, number, dataset, len(value)) + value

    records = b"".join(
        (
            record(1, 90, b"\x1b%G"),  # CodedCharacterSet: UTF-8
            record(2, 0, b"\x00\x04"),  # ApplicationRecordVersion
            record(2, 5, f"{CITY}, Motiv {seed}".encode()),  # ObjectName
            record(2, 55, date.encode()),  # DateCreated
            record(2, 80, ARTIST.encode()),  # By-line
            record(2, 90, CITY.encode()),  # City
            record(2, 116, f"© {ARTIST}".encode()),  # CopyrightNotice
        )
    )
    padding = b"\x00" * (len(records) % 2)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(records))
    payload = b"Photoshop 3.0\x00" + resource + records + padding
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _insert_jpeg_segment(jpeg: bytes, segment: bytes) -> bytes:
    """Put ``segment`` after the APPn and COM segments that follow SOI, as cameras do."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG stream")
    position = 2
    while jpeg[position] == 0xFF and (
        0xE0 <= jpeg[position + 1] <= 0xEF or jpeg[position + 1] == 0xFE
    ):
        (length,) = struct.unpack(">H", jpeg[position + 2 : position + 4])
        position += 2 + length
    return jpeg[:position] + segment + jpeg[position:]


def _save(picture: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = BytesIO()
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()
