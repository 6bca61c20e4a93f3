"""What the three Meta sources (Facebook, Instagram, Threads) share: the Graph API's way of
answering, paging, throttling and expiring tokens.

References:

- errors: https://developers.facebook.com/docs/graph-api/guides/error-handling
- rate limits and usage headers: https://developers.facebook.com/docs/graph-api/overview/rate-limiting
- paging: https://developers.facebook.com/docs/graph-api/results
- token metadata: https://developers.facebook.com/docs/graph-api/reference/debug_token and
  https://developers.facebook.com/documentation/threads/reference/debug
- refreshing long-lived tokens:
  https://developers.facebook.com/documentation/instagram-platform/reference/refresh_access_token
  and https://developers.facebook.com/docs/threads/get-started/long-lived-tokens/

How a run talks to Graph:

- The token goes in the ``Authorization: Bearer`` header, never in a URL we build. Only the two
  token endpoints define it as a query parameter (``refresh_access_token``'s ``access_token``,
  ``debug_token``'s ``input_token``); ``fetch.http`` redacts both in every log line and error.
- Graph reports failures as HTTP 400/401/403 with an ``error`` object whose ``code`` says what
  happened. :func:`graph_error` maps it: 190/102 (token expired, revoked, invalid) and 10, 3,
  200-299 (permission missing) to ``AuthError``; 4, 17, 32, 613, 80001, 80002 (throttled) to
  ``RateLimitError``; 1 and 2 (temporary) to ``TransientError``. Each message names the account,
  says what to do in German and English, and points to the platform's docs page.
- ``paging.next`` holds the access token. We never follow or store that URL: :func:`next_params`
  takes the cursor (``after``, or ``until``/``__paging_token`` on time-based edges) out of it
  and the next request is built from our own base URL.
- ``X-App-Usage``, ``X-Page-Usage`` and ``X-Business-Use-Case-Usage`` report how much of the
  quota is used, in percent. Above :data:`USAGE_LIMIT_PERCENT` a run stops paging for that
  account, logs a warning and leaves the incremental marker where it was, so the next run
  continues instead of skipping anything.

Incremental fetching (:func:`walk_new_items`): lists arrive newest first. The state keeps the
time of the newest item we hold (``newest_time``) and the ids at that time (``newest_ids``); a
later run skips everything at or before that marker and stops paging once a page ends at or
before it. We do not send ``since``: the three APIs document it differently, and skipping
known items ourselves keeps a run with nothing new to exactly one request and zero changed
bytes. Edits of posts we already hold are not picked up (Graph's ``updated_time`` also moves
when someone comments, so it cannot tell an edit).

Token expiry (:func:`check_token`): at most once a day per account (``token_checked_at``) the
source asks Graph when its token expires and records it as ``token_expires_at`` (ISO 8601, or
``null`` for a token that does not expire). Every run warns when that date is less than
:data:`TOKEN_WARNING_DAYS` days away. A check that fails never fails the account: it is
retried the next day (or, after a timeout, 5xx or rate limit, the next run), and the listing
reports a bad token with Meta's own error code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from ..errors import AuthError, PayloadError, RateLimitError, SourceError, TransientError
from ..http import parse_json, quiet_library_loggers
from ..times import normalize_time
from .base import FetchContext

# https://developers.facebook.com/docs/graph-api/changelog/versions/ lists v26.0 (29 July 2026)
# as the newest version; every Graph version is supported for about two years after release.
GRAPH_API_VERSION = "v26.0"
# https://developers.facebook.com/documentation/threads/reference: the Threads API is at v1.0.
THREADS_API_VERSION = "v1.0"
PAGE_LIMIT = 25  # Graph's default page size; large pages with attachments time out on Graph's side
USAGE_LIMIT_PERCENT = 90.0
TOKEN_CHECK_INTERVAL = timedelta(days=1)
TOKEN_WARNING_DAYS = 14
# Statuses Graph uses for its error objects; we read the object instead of guessing from the status.
GRAPH_ERROR_STATUSES = (400, 401, 403, 404)

_TOKEN_CODES = frozenset({190, 102})
_PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
_TEMPORARY_CODES = frozenset({1, 2})
# error_subcode of code 190, https://developers.facebook.com/docs/graph-api/guides/error-handling
_TOKEN_SUBCODES = {
    458: ("the app was removed from the account", "die App wurde vom Konto entfernt"),
    459: (
        "the account must log in to Facebook first",
        "das Konto muss sich erst bei Facebook anmelden",
    ),
    460: (
        "the token was invalidated (password changed or security reset)",
        "das Token wurde ungültig (Passwort geändert oder Sicherheitsprüfung)",
    ),
    463: ("the token has expired", "das Token ist abgelaufen"),
    464: ("the account is not confirmed", "das Konto ist nicht bestätigt"),
    467: ("the token is invalid", "das Token ist ungültig"),
    492: (
        "the session is invalid (is the person still an admin of the page?)",
        "die Sitzung ist ungültig (ist die Person noch Admin der Seite?)",
    ),
}
_PAGING_KEYS = ("after", "until", "since", "__paging_token")


@dataclass(frozen=True)
class Platform:
    """What error messages and warnings need to know about the Meta platform at hand."""

    name: str  # registry name, also the docs page: docs/plattformen/<name>.md
    label: str
    permissions: str  # the permissions the token needs, as the docs page names them

    @property
    def docs(self) -> str:
        return f"docs/plattformen/{self.name}.md"


# -- requests ----------------------------------------------------------------------------------


def auth_headers(context: FetchContext) -> dict[str, str]:
    token = context.account.secrets.get("token", "")
    if not token:
        raise AuthError(
            "no access token: the account needs token_env in aushang.yml",
            account=context.account.key,
        )
    return {"Accept": "application/json", "Authorization": f"Bearer {token}"}


def request_json(
    context: FetchContext,
    platform: Platform,
    url: str,
    params: dict[str, Any] | None = None,
    *,
    send_token: bool = True,
) -> tuple[Any, httpx.Response]:
    """GET a Graph endpoint; return the parsed body and the response (for its headers)."""
    account = context.account.key
    headers = auth_headers(context) if send_token else {"Accept": "application/json"}
    response = context.http.get(
        url, params=params, headers=headers, account=account, ok=GRAPH_ERROR_STATUSES
    )
    shown = context.http.redact(str(response.url))
    if response.status_code >= 400:
        raise graph_error(context, platform, response, shown)
    data = parse_json(response, shown, account)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        raise _error_from_object(context, platform, data["error"], shown, response)
    return data, response


def graph_error(
    context: FetchContext, platform: Platform, response: httpx.Response, shown: str
) -> SourceError:
    """The domain error for a Graph error response (its ``error`` object, else its status)."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return _error_from_object(context, platform, body["error"], shown, response)
    account, status = context.account.key, response.status_code
    if status in (401, 403):
        return AuthError(
            _explain(platform, account, "not authorized", "nicht berechtigt", _renew(platform)),
            account=account,
            url=shown,
            status=status,
        )
    return SourceError(
        f"{platform.label} account '{account}': request refused",
        account=account,
        url=shown,
        status=status,
    )


def _error_from_object(
    context: FetchContext,
    platform: Platform,
    error: dict[str, Any],
    shown: str,
    response: httpx.Response,
) -> SourceError:
    account, status = context.account.key, response.status_code
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    detail = context.http.redact(str(error.get("message") or "")[:200])
    number = f"Graph error {code}" + (f"/{subcode}" if subcode else "")
    reason = f"{number}: {detail}" if detail else number
    if code in _TOKEN_CODES or (code is None and error.get("type") == "OAuthException"):
        english, german = _TOKEN_SUBCODES.get(
            subcode or 0, ("the token was rejected", "das Token wurde abgelehnt")
        )
        return AuthError(
            _explain(platform, account, f"{english} ({reason})", german, _renew(platform)),
            account=account,
            url=shown,
            status=status,
        )
    if code in _PERMISSION_CODES:
        return AuthError(
            _explain(
                platform,
                account,
                f"the token lacks a permission ({reason})",
                "dem Token fehlt eine Berechtigung",
                f"create a token with {platform.permissions} / ein Token mit "
                f"{platform.permissions} erzeugen ({platform.docs})",
            ),
            account=account,
            url=shown,
            status=status,
        )
    if code in _RATE_LIMIT_CODES:
        wait = regain_minutes(response.headers)
        when = f" Meta expects access again in about {wait} minutes." if wait else ""
        return RateLimitError(
            _explain(
                platform,
                account,
                f"Meta's rate limit was reached ({reason}).{when}",
                "Metas Abruflimit ist erreicht",
                "nothing to do, the next run continues where this one stopped / nichts zu tun, "
                f"der nächste Lauf macht weiter ({platform.docs})",
            ),
            account=account,
            url=shown,
            status=status,
        )
    if code in _TEMPORARY_CODES:
        return TransientError(
            f"{platform.label} account '{account}': temporary Graph problem ({reason})",
            account=account,
            url=shown,
            status=status,
        )
    if code == 100:
        return SourceError(
            _explain(
                platform,
                account,
                f"the object cannot be read ({reason})",
                "das Objekt ist nicht lesbar",
                "check the id in aushang.yml and that the token belongs to this account and "
                f"has {platform.permissions} / Kennung in aushang.yml und Berechtigungen des "
                f"Tokens prüfen ({platform.docs})",
            ),
            account=account,
            url=shown,
            status=status,
        )
    return SourceError(
        f"{platform.label} account '{account}': request refused ({reason})",
        account=account,
        url=shown,
        status=status,
    )


def _renew(platform: Platform) -> str:
    return (
        f"create a new token as described in {platform.docs} and store it as the secret named "
        f"in token_env / ein neues Token wie in {platform.docs} beschrieben erzeugen und als "
        "Secret unter dem Namen aus token_env hinterlegen"
    )


def _explain(platform: Platform, account: str, english: str, german: str, todo: str) -> str:
    return (
        f"{platform.label} account '{account}': {english}; {german}. What to do / Was tun: {todo}"
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- usage headers -----------------------------------------------------------------------------


def _usage_entries(headers: httpx.Headers) -> Iterator[dict[str, Any]]:
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        value = _json_header(headers.get(name))
        if isinstance(value, dict):
            yield value
    business = _json_header(headers.get("x-business-use-case-usage"))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    yield entry


def usage_percent(headers: httpx.Headers) -> float:
    """The highest quota use Graph reports in this response's usage headers, in percent."""
    highest = 0.0
    for entry in _usage_entries(headers):
        for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
            try:
                highest = max(highest, float(entry.get(key) or 0))
            except (TypeError, ValueError):
                continue
    return highest


def regain_minutes(headers: httpx.Headers) -> int:
    """``estimated_time_to_regain_access`` (minutes) from the usage headers, 0 if none."""
    minutes = 0
    for entry in _usage_entries(headers):
        value = _int(entry.get("estimated_time_to_regain_access"))
        if value:
            minutes = max(minutes, value)
    return minutes


def _json_header(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


# -- paging ------------------------------------------------------------------------------------


def next_params(paging: Any) -> dict[str, str] | None:
    """The parameters that ask for the next page, without the URL (and its access token)."""
    if not isinstance(paging, dict) or not paging.get("next"):
        return None  # Graph: no "next" means this was the last page, cursors or not
    cursors = paging.get("cursors")
    if isinstance(cursors, dict) and cursors.get("after"):
        return {"after": str(cursors["after"])}
    try:
        query = parse_qsl(urlsplit(str(paging["next"])).query, keep_blank_values=True)
    except ValueError:
        return None
    found = {key: value for key, value in query if key in _PAGING_KEYS and value}
    return found or None


def walk_new_items(
    context: FetchContext,
    platform: Platform,
    url: str,
    params: dict[str, Any],
    *,
    time_field: str,
) -> Iterator[dict[str, Any]]:
    """Yield the items of a newest-first list edge that are newer than the state's marker.

    The marker moves only when the walk was not cut short by the usage limit, and only after
    the last item was consumed (the orchestrator saves the state after a complete pass anyway).
    """
    state = context.state
    account = context.account.key
    newest: str | None = state.get("newest_time")
    newest_ids = set(state.get("newest_ids") or [])
    best_time, best_ids = newest, set(newest_ids)
    complete = True
    seen_cursors: set[tuple[tuple[str, str], ...]] = set()
    request_params = dict(params)
    for _page in range(context.max_pages):
        data, response = request_json(context, platform, url, request_params)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise PayloadError(
                "expected a list under 'data'",
                account=account,
                url=context.http.redact(str(response.url)),
            )
        oldest_on_page: str | None = None
        for raw in items:
            when = _item_time(context, raw, time_field)
            if when is None:
                continue
            oldest_on_page = when
            native_id = str(raw["id"])
            if newest is not None and (
                when < newest or (when == newest and native_id in newest_ids)
            ):
                continue
            if best_time is None or when > best_time:
                best_time, best_ids = when, {native_id}
            elif when == best_time:
                best_ids.add(native_id)
            yield raw
        if newest is not None and oldest_on_page is not None and oldest_on_page <= newest:
            break
        usage = usage_percent(response.headers)
        if usage > USAGE_LIMIT_PERCENT:
            context.log.warning(
                "%s: Meta reports %.0f %% of the API quota used; stopping here for this run, "
                "the next run continues (Meta meldet %.0f %% Auslastung; der nächste Lauf macht "
                "weiter)",
                account,
                usage,
                usage,
            )
            complete = False
            break
        cursor = next_params(data.get("paging"))
        if cursor is None:
            break
        key = tuple(sorted(cursor.items()))
        if key in seen_cursors:
            context.log.warning("%s: Graph returned the same page cursor twice; stopping", account)
            break
        seen_cursors.add(key)
        request_params = {**params, **cursor}
    if complete and best_time is not None:
        state["newest_time"] = best_time
        state["newest_ids"] = sorted(best_ids)


def _item_time(context: FetchContext, raw: Any, time_field: str) -> str | None:
    account = context.account.key
    if not isinstance(raw, dict) or not raw.get("id") or not raw.get(time_field):
        context.log.warning("%s: skipped an item without id or %s", account, time_field)
        return None
    try:
        return normalize_time(str(raw[time_field]))
    except (ValueError, OverflowError):
        context.log.warning("%s: skipped item %s with a broken %s", account, raw["id"], time_field)
        return None


# -- token expiry ------------------------------------------------------------------------------

# What a token check found: a moment, None (never expires), or UNKNOWN (nothing learned).
UNKNOWN = "unknown"
TokenExpiry = datetime | None | str


def check_token(
    context: FetchContext,
    platform: Platform,
    probe: Callable[[FetchContext, Platform], TokenExpiry],
    *,
    now: datetime | None = None,
) -> None:
    """Ask when the token expires at most once a day; warn on every run when it is soon."""
    state = context.state
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    checked = _parse_time(state.get("token_checked_at"))
    if checked is None or moment - checked >= TOKEN_CHECK_INTERVAL:
        # The check never fails the account: the listing that follows reports a bad token
        # with Meta's own error code.
        try:
            expiry = probe(context, platform)
        except (RateLimitError, TransientError) as exc:
            context.log.warning(
                "%s: token check postponed to the next run (Token-Prüfung verschoben): %s",
                context.account.key,
                exc,
            )
        except SourceError as exc:
            context.log.warning(
                "%s: could not check when the token expires, next try tomorrow "
                "(Ablaufdatum des Tokens nicht prüfbar): %s",
                context.account.key,
                exc,
            )
            state["token_checked_at"] = moment.isoformat()
        else:
            if expiry != UNKNOWN:
                state["token_expires_at"] = (
                    expiry.astimezone(UTC).replace(microsecond=0).isoformat()
                    if isinstance(expiry, datetime)
                    else None
                )
            state["token_checked_at"] = moment.isoformat()
    warn_if_expiring(context, platform, moment)


def warn_if_expiring(context: FetchContext, platform: Platform, now: datetime) -> None:
    expires = _parse_time(context.state.get("token_expires_at"))
    if expires is None:
        return
    left = expires - now
    if left < timedelta(days=TOKEN_WARNING_DAYS):
        days = max(0, round(left.total_seconds() / 86400))
        context.log.warning(
            "%s: the %s access token expires on %s (in %d days): renew it as described in %s "
            "(das Zugangstoken läuft am %s ab: bitte rechtzeitig erneuern)",
            context.account.key,
            platform.label,
            expires.date().isoformat(),
            days,
            platform.docs,
            expires.strftime("%d.%m.%Y"),
        )


def probe_debug_token(base: str) -> Callable[[FetchContext, Platform], TokenExpiry]:
    """Token metadata from ``{base}/debug_token``: the earlier of ``expires_at`` and
    ``data_access_expires_at`` (0 means never)."""

    def probe(context: FetchContext, platform: Platform) -> TokenExpiry:
        token = context.account.secrets.get("token", "")
        quiet_library_loggers()  # the token is in this URL; httpx would log it at INFO
        data, _response = request_json(
            context, platform, f"{base}/debug_token", {"input_token": token}
        )
        info = data.get("data") if isinstance(data, dict) else None
        if not isinstance(info, dict):
            return UNKNOWN
        if info.get("is_valid") is False:
            context.log.warning(
                "%s: Meta reports the token as no longer valid; renew it (%s)",
                context.account.key,
                platform.docs,
            )
        moments = [
            _int(info.get(key)) for key in ("expires_at", "data_access_expires_at") if key in info
        ]
        if not moments:
            return UNKNOWN
        real = [m for m in moments if m]
        return datetime.fromtimestamp(min(real), UTC) if real else None

    return probe


def probe_refresh(url: str, grant_type: str) -> Callable[[FetchContext, Platform], TokenExpiry]:
    """Refresh a long-lived Instagram or Threads token and learn its new expiry.

    Refreshing extends the validity of the same token by 60 days (the answer repeats it), so a
    city whose runs keep going never has to renew it by hand. Should Meta answer with a
    different token, we cannot store it (secrets live only in the environment): the run warns,
    and the configured token keeps its old expiry.
    """

    def probe(context: FetchContext, platform: Platform) -> TokenExpiry:
        token = context.account.secrets.get("token", "")
        quiet_library_loggers()  # the token is in this URL; httpx would log it at INFO
        data, _response = request_json(
            context,
            platform,
            url,
            {"grant_type": grant_type, "access_token": token},
            send_token=False,
        )
        if not isinstance(data, dict):
            return UNKNOWN
        seconds = _int(data.get("expires_in"))
        if data.get("access_token") not in (None, token):
            context.log.warning(
                "%s: Meta answered the token refresh with a different token, which Aushang "
                "cannot store; renew the secret before the old token expires (%s)",
                context.account.key,
                platform.docs,
            )
            return UNKNOWN
        if not seconds:
            return UNKNOWN
        return datetime.now(UTC) + timedelta(seconds=seconds)

    return probe


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- text --------------------------------------------------------------------------------------

_HASHTAG = re.compile(r"(?<![\w/&#])#(\w*[^\W\d_]\w*)")
# Instagram and Threads user names: letters, digits, "_" and "." (not at the end), up to 30.
_MENTION = re.compile(r"(?<![\w.@/])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)")
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


def hashtags(text: str) -> tuple[str, ...]:
    """The hashtags of a plain text, in order, each once (compared case-insensitively)."""
    found: list[str] = []
    seen: set[str] = set()
    for tag in _HASHTAG.findall(text):
        if tag.lower() not in seen:
            seen.add(tag.lower())
            found.append(tag)
    return tuple(found)


def mark_mentions(html: str) -> str:
    """Wrap @names in the HTML from ``linkify_text`` in a plain span: no link to a profile."""
    parts = _TAG_OR_TEXT.split(html)
    in_link = 0
    for index, part in enumerate(parts):
        if part.startswith("<"):
            if re.match(r"<a[\s>]", part):
                in_link += 1
            elif part.startswith("</a"):
                in_link = max(0, in_link - 1)
            continue
        if not in_link and "@" in part:
            parts[index] = _MENTION.sub(r'<span class="mention">@\1</span>', part)
    return "".join(parts)


def strip_query(url: str) -> str:
    """A permalink without query or fragment (Instagram and Threads need neither)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return parts._replace(query="", fragment="").geturl() if parts.scheme else url
