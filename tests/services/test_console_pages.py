"""The console's files as a browser gets them: security headers on every answer, the
vendored releases byte for byte but for their listed edits, with their licences, nothing
linked or loaded from another origin, and no way for a report's text to be read as markup."""

from __future__ import annotations

import hashlib
import re

from services.console.pages import STATIC_DIR, VENDOR_DIR, VENDOR_EDITS, VENDORED_RELEASES
from services.testbed.stack import Stack

PATHS = [
    "/console/",
    "/console/index.html",
    "/console/js/main.js",
    "/console/console.css",
    "/console/vendor/leaflet-1.9.4/leaflet.js",
    "/console/vendor/leaflet-1.9.4/LICENSE",
    "/console/no-such-file.js",
    "/console/time-zone.json",
    "/console",
]


async def test_every_console_answer_carries_the_security_headers(stack: Stack) -> None:
    async with stack.client() as anonymous:
        for path in PATHS:
            answer = await anonymous.get(path)
            assert answer.status_code in (200, 307, 404), path
            policy = answer.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
            assert directives["default-src"] == "'self'", path
            assert directives["script-src"] == "'self'", path
            assert directives["style-src"] == "'self'", path
            assert directives["frame-ancestors"] == "'none'", path
            assert "unsafe" not in policy
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert answer.headers["x-frame-options"] == "DENY"
        page = await anonymous.get("/console/")
        assert page.headers["content-type"].startswith("text/html")
        script = await anonymous.get("/console/js/main.js")
        assert script.headers["content-type"].startswith("text/javascript")


def test_the_page_has_no_inline_script_or_style() -> None:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert "http://" not in html and "https://" not in html


def test_no_module_parses_text_as_html() -> None:
    for module in (STATIC_DIR / "js").rglob("*.js"):
        source = module.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in source, (module.name, sink)


def test_the_vendored_files_are_the_npm_releases_whose_licences_ship() -> None:
    for name, sha256 in VENDORED_RELEASES.items():
        shipped = (VENDOR_DIR / name).read_bytes()
        for released, edited in VENDOR_EDITS.get(name, ()):
            # Each edit made exactly once, so undoing it gives back the release's bytes.
            assert shipped.count(edited) == 1 and released not in shipped, name
            shipped = shipped.replace(edited, released)
        assert hashlib.sha256(shipped).hexdigest() == sha256, name
        release = name.split("/")[0]
        assert (VENDOR_DIR / release / "LICENSE").is_file(), release


def test_no_shipped_file_links_or_loads_from_another_origin() -> None:
    outside = re.compile(rb"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", re.IGNORECASE)
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            assert not outside.findall(path.read_bytes()), path.relative_to(STATIC_DIR)
