"""Reports for the city's social-media team, written at build time beside the site, never in it.

``build/reports/alt-text.md`` lists every published post with an image (or a video poster)
that has no description, newest first, with a link to the original where the description can
be added. The site itself marks those images with a visible "Bildbeschreibung fehlt".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..archive import write_atomic
from ..model import Post
from ..sources import registry
from ..times import format_date_de
from .render import post_url

ALT_TEXT_REPORT = "alt-text.md"


@dataclass(frozen=True)
class AltTextGap:
    """What the report says of one post whose images lack descriptions: the build keeps it in
    its catalog, so writing the report reads no post file."""

    published: str
    account: str
    platform: str
    missing: int  # images without description
    media: int  # images and video posters in all
    original: str  # the post on its platform
    page: str  # its page on the site, relative to the root

    @classmethod
    def of(cls, post: Post) -> AltTextGap:
        return cls(
            published=post.published,
            account=post.account,
            platform=post.platform,
            missing=missing_alt_text(post),
            media=len(post.media),
            original=post.url,
            page=post_url(post),
        )


@dataclass(frozen=True)
class AltTextReport:
    path: Path
    posts: int  # posts with at least one image without description
    images: int  # images without description, over all posts


def missing_alt_text(post: Post) -> int:
    """How many of a post's images and video posters have no description."""
    return sum(1 for media in post.media if not media.alt.strip())


def write_alt_text_report(
    gaps: list[AltTextGap],
    folder: Path,
    *,
    account_names: dict[str, str],
    timezone: str,
    site_url: str = "",
) -> AltTextReport:
    lacking = [gap for gap in gaps if gap.missing]
    lacking.sort(key=lambda gap: (gap.published, gap.page), reverse=True)
    images = sum(gap.missing for gap in lacking)
    lines = [
        "# Bilder ohne Bildbeschreibung",
        "",
        "Dieser Bericht ist für das Social-Media-Team und wird nicht veröffentlicht. Er listet "
        "die archivierten Beiträge, deren Bilder (oder Video-Vorschaubilder) keine "
        "Bildbeschreibung (Alternativtext) haben. Auf der Website steht bei diesen Bildern "
        "„Bildbeschreibung fehlt“. Tragen Sie die Beschreibung auf der Plattform nach: beim "
        "nächsten Abruf übernimmt Aushang sie.",
        "",
    ]
    if not lacking:
        lines.append("Alle Bilder haben eine Bildbeschreibung.")
    else:
        lines += [
            f"**{len(lacking)} Beiträge mit {images} Bildern ohne Beschreibung.**",
            "",
            "| Datum | Konto | Plattform | Bilder ohne Beschreibung | Original | Im Archiv |",
            "|---|---|---|---|---|---|",
        ]
        for gap in lacking:
            source = registry.get(gap.platform)
            archive_link = f"{site_url}{gap.page}" if site_url else gap.page
            lines.append(
                "| "
                + " | ".join(
                    [
                        format_date_de(gap.published, timezone),
                        _cell(account_names.get(gap.account, gap.account)),
                        _cell(source.label if source else gap.platform),
                        f"{gap.missing} von {gap.media}",
                        f"<{gap.original}>" if gap.original else "",
                        f"`{archive_link}`",
                    ]
                )
                + " |"
            )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ALT_TEXT_REPORT
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return AltTextReport(path=path, posts=len(lacking), images=images)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
