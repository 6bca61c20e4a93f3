"""Time handling: the archive stores UTC ISO 8601; the site shows Europe/Berlin in German."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil import parser

MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip


def normalize_time(value: str | datetime) -> str:
    """ISO 8601 in UTC with seconds precision: the one time format of the archive."""
    moment = value if isinstance(value, datetime) else parser.isoparse(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def local(value: str, timezone: str) -> datetime:
    return parse_time(value).astimezone(ZoneInfo(timezone))


def format_date_de(value: str, timezone: str, *, with_time: bool = True) -> str:
    """``4. Mai 2026, 09:30 Uhr`` in the site's time zone."""
    moment = local(value, timezone)
    text = f"{moment.day}. {MONTHS_DE[moment.month - 1]} {moment.year}"
    return f"{text}, {moment:%H:%M} Uhr" if with_time else text


def format_date_en(value: str, timezone: str, *, with_time: bool = True) -> str:
    moment = local(value, timezone)
    text = f"{moment:%-d %B %Y}"
    return f"{text}, {moment:%H:%M}" if with_time else text
