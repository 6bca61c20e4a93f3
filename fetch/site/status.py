"""The status page (``status/``): is the mirror alive, which account is behind, what expires.

GitHub switches off scheduled workflows of a public repository after 60 days without activity,
and an expired token fails one account quietly. This page makes both visible to anyone: it
says prominently when the site was built ("Stand"), warns when the data is older than
``stale_after_hours``, and lists per account the last successful fetch and tokens about to
expire (a source may keep ``token_expires_at`` in its state).

Reads only the archive (``status.json``, ``state/<account>.json``) and the config. Error
details stay in the run log: the page names the kind of problem in plain German, never the
error text, which may carry internal URLs.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..config import Config
from ..sources import registry
from ..times import format_date_de

STATUS_PAGE = "status.md"
TOKEN_WARNING_DAYS = 14  # a token expiring sooner than this is shown as a warning

ERROR_KINDS_DE = {
    "auth": "Zugang abgelehnt: das Zugangs-Token ist abgelaufen, widerrufen oder ohne Rechte",
    "rate_limit": "von der Plattform gebremst (Ratenlimit)",
    "transient": "Plattform nicht erreichbar oder gestört",
    "payload": "unerwartete Antwort der Plattform",
    "not_found": "Konto oder Schnittstelle nicht gefunden",
}


def build_time() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def status_pages(
    config: Config, counts: Mapping[str, int], *, built_at: datetime | None = None
) -> dict[str, str]:
    """The generated status page: ``{relative .md path: Markdown}``; ``counts``: published
    posts per account."""
    built = built_at or build_time()
    status = _read_json(config.archive_dir / "status.json")
    zone = config.site.timezone
    stale_limit = timedelta(hours=config.stale_after_hours)

    rows: list[str] = []
    stale: list[str] = []
    failing: list[str] = []
    expiring: list[str] = []
    newest_success: datetime | None = None
    for account in config.accounts:
        entry = status.get(account.key) or {}
        name = html.escape(account.name)
        source = registry.get(account.platform)
        label = html.escape(source.label if source else account.platform)
        success = _parse(entry.get("last_success"))
        if success and (newest_success is None or success > newest_success):
            newest_success = success
        enabled = bool(account.options.get("enabled", True))
        if not enabled:
            state = "abgeschaltet"
        elif success is None:
            first = _parse(entry.get("first_attempt"))
            state = "noch kein erfolgreicher Abruf"
            if first is not None and built - first > stale_limit:
                stale.append(name)
                state = "<strong>veraltet:</strong> noch kein erfolgreicher Abruf"
        elif built - success > stale_limit:
            stale.append(name)
            state = (
                f"<strong>veraltet:</strong> seit über {config.stale_after_hours} Stunden "
                "kein erfolgreicher Abruf"
            )
        else:
            state = "aktuell"
        if enabled and entry.get("last_status") in ("failed", "partial"):
            kind = ERROR_KINDS_DE.get(str(entry.get("last_error_kind")), "Abruf fehlgeschlagen")
            attempt = _date(entry.get("last_attempt"), zone)
            state += f"; letzter Versuch {attempt}: {html.escape(kind)}"
            failing.append(name)
        expires = _token_expiry(config, account.key)
        access = "–"
        if expires is not None:
            when = _date(expires.isoformat(), zone)
            if expires <= built:
                access = f"<strong>abgelaufen</strong> am {when}"
                expiring.append(f"{name} (abgelaufen)")
            elif expires - built <= timedelta(days=TOKEN_WARNING_DAYS):
                access = f"<strong>läuft bald ab:</strong> {when}"
                expiring.append(f"{name} (läuft am {when} ab)")
            else:
                access = f"gültig bis {when}"
        last = _date(entry.get("last_success"), zone) if success else "noch nie"
        rows.append(
            f'<tr><th scope="row">{name}</th><td>{label}</td><td>{counts.get(account.key, 0)}</td>'
            f"<td>{last}</td><td>{state}</td><td>{access}</td></tr>"
        )

    notes: list[str] = []
    if newest_success is None or built - newest_success > stale_limit:
        notes.append(
            _admonition(
                "warning",
                "Daten möglicherweise veraltet",
                f"Seit über {config.stale_after_hours} Stunden ist kein Abruf gelungen. "
                "Das Archiv wird zurzeit nicht aktualisiert.",
            )
        )
    elif stale:
        notes.append(
            _admonition(
                "warning",
                "Einzelne Konten veraltet",
                f"Für {', '.join(stale)} ist seit über {config.stale_after_hours} Stunden kein "
                "Abruf gelungen. Neue Beiträge dieser Konten fehlen hier vielleicht noch.",
            )
        )
    if expiring:
        notes.append(
            _admonition(
                "warning",
                "Zugänge laufen ab",
                "Folgende Zugangs-Token müssen erneuert werden: " + ", ".join(expiring) + ".",
            )
        )

    stand = format_date_de(built.isoformat(), zone)
    body = "\n".join(
        [
            "---",
            'title: "Status"',
            'description: "Wann dieses Archiv zuletzt aktualisiert wurde und ob alle Konten '
            'abgerufen werden."',
            "hide:",
            "  - navigation",
            "---",
            "",
            '<div class="aushang-status">',
            '<h1 class="aushang-page-title">Status des Archivs</h1>',
            f'<p class="aushang-status__stand"><strong>Stand: <time datetime="'
            f'{built.isoformat()}">{stand}</time></strong></p>',
            "<p>So aktuell ist diese Seite: Das Archiv holt die Beiträge stündlich von den "
            "Plattformen und wird danach neu erstellt. Liegt der Stand deutlich länger als einen "
            "Tag zurück, wird das Archiv zurzeit nicht aktualisiert.</p>",
            *notes,
            "<table>",
            "<caption>Abruf je Konto</caption>",
            '<thead><tr><th scope="col">Konto</th><th scope="col">Plattform</th>'
            '<th scope="col">Beiträge</th><th scope="col">Letzter erfolgreicher Abruf</th>'
            '<th scope="col">Zustand</th><th scope="col">Zugang</th></tr></thead>',
            "<tbody>",
            *rows,
            "</tbody>",
            "</table>",
            "</div>",
            "",
        ]
    )
    return {STATUS_PAGE: body}


def _admonition(kind: str, title: str, text: str) -> str:
    # Material styles these classes without the admonition extension; plain HTML keeps the page
    # independent of Markdown extensions.
    return (
        f'<div class="admonition {kind}"><p class="admonition-title">{html.escape(title)}</p>'
        f"<p>{text}</p></div>"
    )


def _token_expiry(config: Config, key: str) -> datetime | None:
    state = _read_json(config.archive_dir / "state" / f"{key}.json")
    cursor = state.get("cursor") if isinstance(state.get("cursor"), dict) else {}
    return _parse(state.get("token_expires_at") or (cursor or {}).get("token_expires_at"))


def _read_json(path: Any) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date(value: Any, zone: str) -> str:
    moment = _parse(value)
    return format_date_de(moment.isoformat(), zone) if moment else "unbekannt"
