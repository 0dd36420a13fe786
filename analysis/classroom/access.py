"""Who may do what, and what a request may carry: cookies in place of codes, CSRF
tokens, and bodies whose size is checked before they are read.

The trainer's key and a team's code are accepted in an address once (the link
printed at start-up, a team link) and answered with an HttpOnly, SameSite=Lax
cookie and a redirect to the same page without them; from then on the cookie is
the credential. A form that relies on the cookie must carry the CSRF token that
the page was drawn with, an HMAC of the credential under the server's secret, so
another site cannot submit it in the user's name. A form that carries the key or
the code itself (a script) needs no token: whoever knows it may act.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from sim.errors import InputError

MAX_FORM = 64 * 1024  # bytes: a decision or a session's settings are far smaller
TRAINER_COOKIE = "classroom_trainer"
TEAM_COOKIE = "classroom_team"
REPEATED = ("develop", "targeting_allowed")


class Throttled(InputError):
    """Too many wrong join codes from one address (HTTP 429)."""


class Throttle:
    """At most ``limit`` wrong join codes a minute from one client address: a short
    code (31^6 values) must not be guessable by trying them all during a class."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._misses: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        """Raise ``Throttled`` if ``client`` has used up its wrong codes."""
        now = time.monotonic() if now is None else now
        with self._lock:
            misses = self._misses[client]
            while misses and misses[0] <= now - self.window:
                misses.popleft()
            if len(misses) >= self.limit:
                wait = misses[0] + self.window - now
                raise Throttled(f"too many wrong codes from this device: try again in {wait:.0f} s")

    def miss(self, client: str, now: float | None = None) -> None:
        with self._lock:
            self._misses[client].append(time.monotonic() if now is None else now)


class TooLarge(InputError):
    """A request body over ``MAX_FORM`` (HTTP 413), refused before it is read whole."""


class BadToken(InputError):
    """A cookie-authenticated form without its page's CSRF token (HTTP 403)."""


async def read_form(request: Request) -> dict[str, Any]:
    """A urlencoded form: one value per field, or a list where a field repeats.

    The declared length is checked first, then the body is read in chunks and
    refused as soon as it passes ``MAX_FORM`` (a streamed body declares no length),
    so an oversized body never sits in memory.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InputError(f"Content-Length={declared!r}: not a number")
        if int(declared) > MAX_FORM:
            raise TooLarge(f"form: {int(declared):,} bytes, at most {MAX_FORM:,} allowed")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM:
            raise TooLarge(f"form: more than {MAX_FORM:,} bytes, at most {MAX_FORM:,} allowed")
        chunks.append(chunk)
    body = b"".join(chunks).decode("utf-8", "replace")
    out: dict[str, Any] = {}
    for k, v in parse_qs(body, keep_blank_values=True).items():
        out[k] = v if len(v) > 1 or k in REPEATED else v[0]
    return out


def csrf_token(secret: str, credential: str) -> str:
    """The CSRF token of pages drawn for ``credential`` (a key or a team code)."""
    return hmac.new(secret.encode(), credential.encode(), hashlib.sha256).hexdigest()[:32]


def credential(
    request: Request, form: dict[str, Any] | None, field: str, cookie: str, secret: str
) -> str | None:
    """The key or code a request acts with: from the form (a script sends it), from the
    address (a first visit), or from the cookie, in which case a form must carry the
    matching CSRF token."""
    if form is not None and form.get(field):
        return str(form[field])
    if form is None and request.query_params.get(field):
        return request.query_params[field]
    value = request.cookies.get(cookie)
    if value and form is not None:
        sent = str(form.get("csrf") or "")
        if not hmac.compare_digest(sent, csrf_token(secret, value)):
            raise BadToken(
                "this form's security token does not match: reload the page and submit again"
            )
    return value


def remember(response: Response, cookie: str, value: str, path: str, secure: bool) -> Response:
    """Keep the credential in an HttpOnly, SameSite=Lax cookie scoped to ``path``."""
    response.set_cookie(
        cookie, value, path=path, httponly=True, samesite="lax", secure=secure, max_age=86400
    )
    return response
