"""Every error Aushang raises on purpose, in one tree.

    AushangError                 base: a message meant for the city's web team
    ├── ConfigError              the config file is wrong; names file, key and what is expected
    ├── ArchiveError             the archive on disk is unreadable or locked
    ├── MediaError               a media file could not be downloaded or safely re-encoded
    └── SourceError              a platform did not give us what we asked for (account, url)
        ├── NotFoundError        the platform positively says: this does not exist (404/410)
        ├── AuthError            401/403: token missing, expired, revoked or under-scoped
        ├── RateLimitError       429 (or 503 with Retry-After) after our polite retries ran out
        ├── TransientError       timeout, connection error, 5xx: try again next run
        └── PayloadError         a 2xx whose body is not what the API documents

Transport errors are mapped to these in one place, ``fetch.http``. Only ``NotFoundError`` on a
post's own endpoint is evidence of a deletion; every other ``SourceError`` is not.
"""

from __future__ import annotations


class AushangError(Exception):
    """Base of all errors meant to be shown to a person."""


class ConfigError(AushangError):
    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class ArchiveError(AushangError):
    pass


class MediaError(AushangError):
    pass


class SourceError(AushangError):
    def __init__(
        self,
        message: str,
        *,
        account: str = "",
        url: str = "",
        status: int | None = None,
    ) -> None:
        self.account, self.url, self.status = account, url, status
        parts = [message]
        if status is not None:
            parts.append(f"HTTP {status}")
        if url:
            parts.append(url)
        super().__init__(" | ".join(parts))


class NotFoundError(SourceError):
    pass


class AuthError(SourceError):
    pass


class RateLimitError(SourceError):
    pass


class TransientError(SourceError):
    pass


class PayloadError(SourceError):
    pass
