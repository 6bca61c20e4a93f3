"""The LinkedIn part of the demo server: renders ``data/linkedin.yml`` as the versioned REST API.

Routes (under ``/linkedin``, so an account's ``api_base`` is ``<server>/linkedin``):

- ``GET /linkedin/rest/posts?q=author&author=<URN>&count=&start=&sortBy=``: the Posts API's
  author finder (https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api),
  newest-modified first, ``paging`` with a ``next`` link;
- ``GET /linkedin/rest/images/<URN>`` and ``/rest/videos/<URN>``: the Images and Videos APIs,
  whose ``downloadUrl``/``thumbnail`` expire after an hour;
- ``GET /linkedin/media/<seed>.jpg?e=<ms>``: the expiring download itself (403 once expired,
  as LinkedIn's media CDN answers), a photo with EXIF and optionally GPS.

Like the real API every ``/rest`` request needs ``Authorization: Bearer``, and a
``LinkedIn-Version: YYYYMM`` header: without it the answer is 400 ``VERSION_MISSING``, with a
month that is not served 426 ``NONEXISTENT_VERSION``. Error bodies have LinkedIn's shape
(``status``, ``serviceErrorCode``, ``code``, ``message``).
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import yaml

from .server import Request, Response

DATA_FILE = Path(__file__).parent / "data" / "linkedin.yml"
DOWNLOAD_LIFETIME_MS = 60 * 60 * 1000
MAX_COUNT = 100
_VERSION = re.compile(r"^(20\d\d)(0[1-9]|1[0-2])$")
_MEDIA = re.compile(r"^/linkedin/media/([A-Za-z0-9_.-]+)\.jpg$")


def _ms(value: Any) -> int:
    when = (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return int(when.astimezone(UTC).timestamp() * 1000)


def _error(status: int, code: str, message: str, service_code: int | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    return Response.json(body, status=status)


def _urn(kind: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"urn:li:{kind}:D4E10AQ{digest[:12]}"


class LinkedInDemo:
    def __init__(self, data_file: Path = DATA_FILE) -> None:
        data = yaml.safe_load(data_file.read_text(encoding="utf-8"))
        self.organizations: list[dict[str, Any]] = data["organizations"]
        self.token: str | None = None  # None: any bearer token is accepted
        self.expired_tokens: set[str] = set()
        self.oldest_version = "202401"  # months before this one are "sunset"
        self._media: dict[str, dict[str, Any]] = {}  # urn -> {"seed", "gps", "kind"}

    # -- test hooks ----------------------------------------------------------------------------
    def add_post(self, organization_id: str, post: dict[str, Any]) -> None:
        self._organization(organization_id)["posts"].append(post)

    def edit_post(self, urn: str, *, commentary: str, edited: str) -> None:
        post = self.post(urn)
        post["commentary"] = commentary
        post["edited"] = edited

    def post(self, urn: str) -> dict[str, Any]:
        for organization in self.organizations:
            for post in organization["posts"]:
                if post["id"] == urn:
                    found: dict[str, Any] = post
                    return found
        raise KeyError(urn)

    def _organization(self, organization_id: str) -> dict[str, Any]:
        for organization in self.organizations:
            if str(organization["id"]) == str(organization_id):
                found: dict[str, Any] = organization
                return found
        raise KeyError(organization_id)

    # -- routing -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | None:
        if not request.path.startswith("/linkedin/"):
            return None
        media = _MEDIA.match(request.path)
        if media:
            return self._download(request, media.group(1))
        if not request.path.startswith("/linkedin/rest/"):
            return None
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not token:
            return _error(401, "INVALID_ACCESS_TOKEN", "Empty oauth2_access_token", 65600)
        if token in self.expired_tokens:
            return _error(
                401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65602
            )
        if self.token is not None and token != self.token:
            return _error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        version = request.headers.get("linkedin-version", "")
        if not version:
            return _error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the "
                "LinkedIn-Version header.",
            )
        current = datetime.now(UTC).strftime("%Y%m")
        if not _VERSION.match(version) or not self.oldest_version <= version <= current:
            return _error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
        path = request.path.removeprefix("/linkedin")
        if path == "/rest/posts":
            return self._posts(request)
        for kind in ("images", "videos"):
            prefix = f"/rest/{kind}/"
            if path.startswith(prefix):
                return self._asset(request, kind[:-1], unquote(path.removeprefix(prefix)))
        return None

    def _posts(self, request: Request) -> Response:
        if request.param("q") != "author":
            return _error(400, "ILLEGAL_ARGUMENT", "Invalid finder, expected q=author")
        author = request.param("author") or ""
        found = re.fullmatch(r"urn:li:organization:(\d+)", author)
        if not found:
            return _error(400, "INVALID_URN_TYPE", f"Invalid author URN {author!r}")
        try:
            organization = self._organization(found.group(1))
        except KeyError:
            return _error(
                403,
                "ACCESS_DENIED",
                "Not enough permissions to access: partnerApiPostsExternal.FINDER-author",
                100,
            )
        try:
            count = int(request.param("count", "10") or 10)
            start = int(request.param("start", "0") or 0)
        except ValueError:
            return _error(400, "ILLEGAL_ARGUMENT", "count and start must be numbers")
        if not 1 <= count <= MAX_COUNT or start < 0:
            return _error(400, "ILLEGAL_ARGUMENT", "count must be 1..100 and start >= 0")
        key = "createdAt" if request.param("sortBy") == "CREATED" else "lastModifiedAt"
        elements = [
            self.element(organization, post, request.base) for post in organization["posts"]
        ]
        elements.sort(key=lambda e: (e[key], e["id"]), reverse=True)
        page = elements[start : start + count]
        links = []
        if start + count < len(elements):
            links.append(
                {
                    "type": "application/json",
                    "rel": "next",
                    "href": f"/rest/posts?author={quote(author, safe='')}&count={count}"
                    f"&q=author&start={start + count}",
                }
            )
        body = {"paging": {"start": start, "count": count, "links": links}, "elements": page}
        return Response.json(body)

    def _asset(self, request: Request, kind: str, urn: str) -> Response:
        media = self._media.get(urn)
        if media is None or media["kind"] != kind:
            return _error(404, "NOT_FOUND", f"{kind} {urn} does not exist", 404)
        expires = int(time.time() * 1000) + DOWNLOAD_LIFETIME_MS
        signature = hashlib.sha256(f"{urn}{expires}".encode()).hexdigest()[:16]
        gps = "&gps=1" if media.get("gps") else ""
        organization = f"urn:li:organization:{media['owner']}"
        if kind == "image":
            return Response.json(
                {
                    "owner": organization,
                    "status": "AVAILABLE",
                    "downloadUrlExpiresAt": expires,
                    "downloadUrl": f"{request.base}/linkedin/media/{media['seed']}.jpg"
                    f"?e={expires}&v=beta&t={signature}{gps}",
                    "id": urn,
                }
            )
        return Response.json(
            {
                "owner": organization,
                "status": "AVAILABLE",
                "duration": 45000,
                "aspectRatioWidth": 16.0,
                "aspectRatioHeight": 9.0,
                "thumbnail": f"{request.base}/linkedin/media/{media['seed']}-poster.jpg"
                f"?e={expires}&w=1280&h=720&v=beta&t={signature}",
                "thumbnailExpiresAt": expires,
                "downloadUrl": f"{request.base}/linkedin/media/{media['seed']}.mp4"
                f"?e={expires}&v=beta&t={signature}",
                "downloadUrlExpiresAt": expires,
                "id": urn,
            }
        )

    def _download(self, request: Request, seed: str) -> Response:
        from .photos import make_photo

        try:
            expires = int(request.param("e", "0") or 0)
        except ValueError:
            expires = 0
        if expires < int(time.time() * 1000):
            return Response(403, b"URL signature expired", {"Content-Type": "text/plain"})
        data = make_photo(
            seed,
            width=int(request.param("w", "1600") or 1600),
            height=int(request.param("h", "1200") or 1200),
            exif=True,
            gps=request.param("gps") == "1",
        )
        return Response(200, data, {"Content-Type": "image/jpeg"})

    # -- entities ------------------------------------------------------------------------------
    def element(
        self, organization: dict[str, Any], post: dict[str, Any], base: str
    ) -> dict[str, Any]:
        """One post as the Posts API returns it."""
        published = _ms(post["published"])
        modified = _ms(post["edited"]) if post.get("edited") else published
        author = f"urn:li:organization:{organization['id']}"
        element: dict[str, Any] = {
            "isReshareDisabledByAuthor": False,
            "createdAt": published - 60_000,
            "lifecycleState": post.get("lifecycle", "PUBLISHED"),
            "lastModifiedAt": modified,
            "visibility": post.get("visibility", "PUBLIC"),
            "publishedAt": published,
            "author": author,
            "id": post["id"],
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "commentary": post.get("commentary", ""),
            "lifecycleStateInfo": {"isEditedByAuthor": bool(post.get("edited"))},
        }
        content = post.get("content") or {}
        rendered: dict[str, Any] = {}
        if content.get("media"):
            item = content["media"]
            urn = self._register("image", item["image"], item.get("gps"), organization)
            rendered["media"] = {"altText": item.get("alt", ""), "id": urn}
        if content.get("video"):
            item = content["video"]
            urn = self._register("video", item["video"], False, organization)
            rendered["media"] = {
                "title": item.get("alt", ""),
                "altText": item.get("alt", ""),
                "id": urn,
            }
        if content.get("images"):
            rendered["multiImage"] = {
                "images": [
                    {
                        "altText": image.get("alt", ""),
                        "id": self._register(
                            "image", image["image"], image.get("gps"), organization
                        ),
                    }
                    for image in content["images"]
                ]
            }
        if content.get("article"):
            article = content["article"]
            rendered["article"] = {
                "source": article["source"],
                "title": article.get("title", ""),
                "description": article.get("description", ""),
            }
            if article.get("thumbnail"):
                rendered["article"]["thumbnail"] = self._register(
                    "image", article["thumbnail"], False, organization
                )
                rendered["article"]["thumbnailAltText"] = article.get("thumbnail_alt", "")
        if content.get("poll"):
            poll = content["poll"]
            rendered["poll"] = {
                "question": poll["question"],
                "settings": {
                    "duration": poll.get("duration", "SEVEN_DAYS"),
                    "voteSelectionType": "SINGLE_VOTE",
                    "isVoterVisibleToAuthor": False,
                },
                "options": [{"text": option} for option in poll["options"]],
            }
        if rendered:
            element["content"] = rendered
        return element

    def _register(self, kind: str, seed: str, gps: Any, organization: dict[str, Any]) -> str:
        urn = _urn(kind, seed)
        self._media[urn] = {
            "seed": seed,
            "gps": bool(gps),
            "kind": kind,
            "owner": organization["id"],
        }
        return urn
