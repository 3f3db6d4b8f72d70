"""The API's documentation pages: Swagger UI at ``/docs`` and ReDoc at ``/redoc``.

FastAPI's own pages load their scripts from a public CDN and stay blank on a network without
internet access (as many police networks are). These pages load Swagger UI and ReDoc from the
copies that the ``fastapi-offline`` package ships, served by this process, under a
Content-Security-Policy that lets the browser fetch nothing from anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
LICENSES_DIR = Path(__file__).parent / "docs_licenses"
# The npm releases the packaged assets are (byte for byte), whose licences ship in
# LICENSES_DIR; a test holds the two together when the package is upgraded.
ASSET_RELEASES: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": (
        "swagger-ui-dist-5.32.6",
        "4b5a9b35a1adf37f00d39c0bae23cdb37007e2946240ef035137cc85b4d55349",
    ),
    "swagger-ui.css": (
        "swagger-ui-dist-5.32.6",
        "ca238f7d7c2cf4480c1e77a9c3b9da915ab216e96ffd354e69076560c650c6de",
    ),
    "redoc.standalone.js": (
        "redoc-2.5.3",
        "1320f442151c57c447d3b70c7ffc6c4f86d08464020fe34c8cc5d3164e9944f0",
    ),
}

SWAGGER_UI_PARAMETERS = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    # No "persistAuthorization": a key, review keys included, is not left in the browser's
    # storage on a shared workstation; it lasts as long as the page.
    "displayRequestDuration": True,
    # No "valid spec" badge: it would send the document to a public validator.
    "validatorUrl": None,
    # Examples in plain text: the highlighting theme draws some of their words in colours
    # too faint to read on its dark background (under WCAG's 4.5:1).
    "syntaxHighlight": False,
}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

REDOC_URL = f"{ASSETS_URL}/redoc.offline.js"
READABLE_CSS = Path(__file__).parent / "docs_readable.css"
READABLE_CSS_URL = f"{ASSETS_URL}/tifli-readable.css"
# What ReDoc points at outside the machine, with no option to turn it off, and what it points
# at instead, so that the drawn page neither loads nor links anything off the host:
REDOC_OFFLINE_EDITS = {
    # its vendor's logo, from a CDN: emptied, the image fails to load and ReDoc hides it;
    "https://cdn.redoc.ly/redoc/logo-mini.svg": "",
    # the menu's "API docs by Redocly" credit: it links to ReDoc's licence, shipped here;
    'href:"https://redocly.com/redoc/"': (
        f'href:"{ASSETS_URL}/licenses/{ASSET_RELEASES["redoc.standalone.js"][0]}/LICENSE"'
    ),
    # every example string that looks like a URL (a photo, a partner's address) made a link
    # to it: shown as the text it is.
    r"/^(http|https):\/\/[^\s]+$/.test(e)?": "!1?",
}


def offline_redoc_script() -> bytes:
    """ReDoc with ``REDOC_OFFLINE_EDITS`` made; each must apply (a new release is checked)."""
    script = (ASSETS_DIR / "redoc.standalone.js").read_text(encoding="utf-8")
    for found, replacement in REDOC_OFFLINE_EDITS.items():
        if found not in script:
            raise RuntimeError(f"redoc.standalone.js no longer contains {found!r}")
        script = script.replace(found, replacement)
    return script.encode()


def _script_hashes(html: str) -> str:
    """CSP source expressions allowing exactly the page's own inline scripts."""
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )


def content_security_policy(html: str) -> str:
    """Everything from this origin only. Inline styles are allowed because both UIs set
    style attributes at run time; ReDoc runs its search index in a worker made from a blob."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {_script_hashes(html)}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


# ReDoc's colours too faint to read (WCAG's 4.5:1) where its theme can set them: inline code
# on its light background, an error response's tab on its dark panel, a 304's orange on its
# tint (1.8:1; a dark orange here, whose tint ReDoc draws lighter).
REDOC_THEME = {
    "colors": {
        "responses": {"error": {"tabTextColor": "#ff8a80"}, "redirect": {"color": "#8a4b00"}}
    },
    "typography": {"code": {"color": "#b3261e"}},
}
_READABLE_LINK = f'<link type="text/css" rel="stylesheet" href="{READABLE_CSS_URL}">'


def _replaced(body: str, edits: dict[str, str]) -> str:
    """``body`` with each key replaced by its value, once; each must be there (FastAPI's
    templates change between releases: a page left unedited should fail, not pass)."""
    for old, new in edits.items():
        if old not in body:
            raise RuntimeError(f"the documentation page no longer holds {old!r}")
        body = body.replace(old, new, 1)
    return body


def _readable_swagger(body: str) -> str:
    """Swagger UI's page made easier to read and to find one's way in: the colours of
    ``docs_readable.css`` over its own, and its content in a ``main`` landmark (a screen
    reader's user jumps to it; FastAPI's template has none)."""
    stylesheet = f'<link type="text/css" rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">'
    return _replaced(
        body,
        {
            stylesheet: f"{stylesheet}\n    {_READABLE_LINK}",
            '<div id="swagger-ui">\n    </div>': '<main id="swagger-ui"></main>',
        },
    )


def _readable_redoc(body: str) -> str:
    """ReDoc's page likewise: its theme's colours, the stylesheet, a ``main`` landmark."""
    theme = html.escape(json.dumps(REDOC_THEME, separators=(",", ":")), quote=True)
    return _replaced(
        body,
        {
            "</head>": f"{_READABLE_LINK}\n    </head>",
            '<redoc spec-url="': f'<main><redoc theme="{theme}" spec-url="',
            "></redoc>": "></redoc></main>",
        },
    )


def _in_english(body: str) -> str:
    """The page marked as English, the language of the API's descriptions: without it a
    screen reader reads them in its user's own language's voice (FastAPI's template has no
    ``lang``)."""
    return _replaced(body, {"<html>": '<html lang="en">'})


def _page(rendered: HTMLResponse, edit: Callable[[str], str]) -> tuple[str, dict[str, str]]:
    body = edit(_in_english(bytes(rendered.body).decode()))
    headers = {
        "Content-Security-Policy": content_security_policy(body),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return body, headers


def install_docs_pages(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Serve the two pages and their assets. The pages never change while the process runs,
    so they are rendered once."""
    favicon = f"{ASSETS_URL}/favicon.png"
    swagger = _page(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=favicon,
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        ),
        _readable_swagger,
    )
    redoc = _page(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API reference",
            redoc_js_url=REDOC_URL,
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        ),
        _readable_redoc,
    )
    redoc_script = offline_redoc_script()
    readable_styles = READABLE_CSS.read_bytes()

    # Declared before the assets' mount, which would otherwise answer for this path.
    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(
            redoc_script,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @app.get(READABLE_CSS_URL, include_in_schema=False)
    async def readable_css() -> Response:
        return Response(
            readable_styles,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    app.mount(f"{ASSETS_URL}/licenses", StaticFiles(directory=LICENSES_DIR), name="docs-licenses")
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger[0], headers=swagger[1])

    @app.get("/redoc", include_in_schema=False)
    async def redoc_page() -> HTMLResponse:
        return HTMLResponse(redoc[0], headers=redoc[1])
