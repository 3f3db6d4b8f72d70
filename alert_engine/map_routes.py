"""Map endpoints: the base map the console draws under zones, and each alert version as a
picture rendered on the server.

The boundaries come from ``MapSources``, which the process wiring installs as one of the app's parts
(the files are a setting); what is derived from them is computed once per process, in a
worker thread, and kept.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from alert_engine.alert_picture import rebuild_zone, version_svg
from alert_engine.base_map import BaseMap, base_map, feature_collection
from alert_engine.conditional_get import NOT_MODIFIED, matches
from alert_engine.dependencies import Alerts, IfNoneMatch, VersionSequence
from alert_engine.service import locations_of
from alert_engine.territory import Territory
from alert_engine.zone_policy import ZonePolicy
from shared.auth import SCOPES, Principal, require_scope
from shared.entity_ids import EntityId
from shared.problem_schema import AUTHENTICATED, problem_responses
from shared.web import part

GEOJSON = "application/geo+json"
SVG = "image/svg+xml"
Reader = Annotated[Principal, require_scope("alerts:read")]
# The base map holds no case data: any working key may read it (a key with no scope at all
# is refused, as it may read nothing else either). The document names no scope for it.
AnyKey = Annotated[Principal, require_scope("alerts:read", *sorted(SCOPES - {"alerts:read"}))]
# The boundary files change only with a deployment, and the ETag tells a browser when.
BASE_MAP_CACHE_CONTROL = "private, max-age=86400"
# A given version's picture never changes (its inputs are fixed once sent); the current one
# (no ``sequence``) does as the alert widens, so a browser revalidates it by its ETag each time.
PINNED_SVG_CACHE_CONTROL = "private, max-age=31536000, immutable"
CURRENT_SVG_CACHE_CONTROL = "private, no-cache"
# Bumped when the drawing changes, so pictures cached under the old drawing are not reused.
PICTURE_REVISION = "1"
# The picture is a document a browser may open on its own: nothing in it may run or load.
SVG_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
}

router = APIRouter(tags=["alerts"])


@dataclass(frozen=True)
class BaseMapDocument:
    base: BaseMap
    body: bytes  # the FeatureCollection as JSON (UTF-8)
    gzipped: bytes
    etag: str


class MapSources:
    """What the map endpoints draw from; loaded on first use (the API starts without them)."""

    def __init__(
        self, territory: Callable[[], Territory], policy: Callable[[], ZonePolicy]
    ) -> None:
        self._territory = territory
        self._policy = policy
        self._base: BaseMapDocument | None = None
        self._zone_policy: ZonePolicy | None = None
        self._lock = threading.Lock()

    def policy(self) -> ZonePolicy:
        """The engine's zone policy, to rebuild a version's zone (blocking on first use)."""
        with self._lock:
            if self._zone_policy is None:
                self._zone_policy = self._policy()
            return self._zone_policy

    def base_map(self) -> BaseMapDocument:
        """The base map, built by the first caller (about 0.3 s) and kept (blocking: call it
        from a worker thread)."""
        with self._lock:
            if self._base is None:
                base = base_map(self._territory())
                body = json.dumps(
                    feature_collection(base), ensure_ascii=False, separators=(",", ":")
                ).encode()
                digest = hashlib.sha256(body).hexdigest()[:32]
                self._base = BaseMapDocument(
                    base, body, gzip.compress(body, mtime=0), f'"{digest}"'
                )
            return self._base


def map_sources(request: Request) -> MapSources:
    return part(request, MapSources)


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        coding, _, parameters = item.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = parameters.strip().removeprefix("q=").strip()
            return quality not in ("0", "0.0", "0.00", "0.000")
    return False


_BASE_MAP_EXAMPLE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[-9.6, 30.4], [-9.5, 30.4], [-9.5, 30.5], [-9.6, 30.5], [-9.6, 30.4]]
                ],
            },
            "properties": {
                "layer": "province",
                "name": "Préfecture d'Agadir Ida-Outanane",
                "name_ar": "عمالة أكادير إدا وتنان",
                "code": "MA-AGD",
                "region": "MA-09",
            },
        }
    ],
}
_CACHE_HEADERS = {
    "ETag": {"description": "Changes when the boundary data does.", "schema": {"type": "string"}},
    "Cache-Control": {"description": BASE_MAP_CACHE_CONTROL, "schema": {"type": "string"}},
}


@router.get(
    "/v1/map/base",
    response_class=Response,
    responses={
        200: {
            "description": "The base map as a GeoJSON FeatureCollection.",
            "headers": _CACHE_HEADERS,
            "content": {GEOJSON: {"schema": {"type": "object"}, "example": _BASE_MAP_EXAMPLE}},
        },
        **NOT_MODIFIED,
        **problem_responses(*AUTHENTICATED),
    },
    operation_id="alerts_base_map",
    summary="The base map: regions, provinces, foreign land",
)
async def read_base_map(
    request: Request,
    _: AnyKey,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Morocco's regions and provinces and the foreign land around them, as an RFC 7946
    FeatureCollection (lon/lat) to draw zones on: the boundary data the zones are clipped to,
    simplified within about 300 m for display. Each Feature's `properties` give its `layer`
    (`region`, `province` or `foreign`), its `name` (French), `name_ar`, its ISO 3166-2
    `code` and a province's `region`; the sea is where no Feature is. The same for every
    caller and every request until the data changes: cache it by its `ETag` (a request with
    `If-None-Match` gets 304); gzip-encoded when the client accepts it.

    **Scope:** any: `alerts:read` or any other scope (the map holds no case data).
    **Events:** none.
    """
    document = await run_in_threadpool(map_sources(request).base_map)
    headers = {
        "ETag": document.etag,
        "Cache-Control": BASE_MAP_CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    if matches(if_none_match, document.etag):
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(document.gzipped, media_type=GEOJSON, headers=headers)
    return Response(document.body, media_type=GEOJSON, headers=headers)


_SVG_EXAMPLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="1000" viewBox="0 0 800 1000" '
    'font-family="sans-serif" font-size="13">\n'
    "<title>Casablanca · version 1 (Alert)</title>\n"
    '<rect id="sea" width="800" height="790.2" fill="#dcecf7"/>\n'
    '<path id="sent-polygon" d="M400.0,60.0 L700.0,300.0 L600.0,700.0 L150.0,650.0 Z" '
    'fill="#c8553d" fill-opacity="0.3" fill-rule="evenodd" stroke="#8c2f1b" '
    'stroke-width="1.6"/>\n'
    "</svg>\n"
)


@router.get(
    "/v1/alerts/{alert_id}/map.svg",
    response_class=Response,
    responses={
        200: {
            "description": "The version as an SVG picture.",
            "headers": {
                "ETag": {
                    "description": "Changes only when the picture would.",
                    "schema": {"type": "string"},
                },
                "Cache-Control": {
                    "description": f"`{PINNED_SVG_CACHE_CONTROL}` with `sequence`, "
                    f"`{CURRENT_SVG_CACHE_CONTROL}` without.",
                    "schema": {"type": "string"},
                },
            },
            "content": {SVG: {"schema": {"type": "string"}, "example": _SVG_EXAMPLE}},
        },
        **NOT_MODIFIED,
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
    operation_id="alerts_map",
    summary="An alert version as a map (SVG)",
)
async def read_map(
    alert_id: EntityId,
    request: Request,
    _: Reader,
    alerts: Alerts,
    sequence: VersionSequence = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """One version of the alert (the current one by default, or `sequence`) drawn as a static
    SVG map, rendered on the server: the sea, foreign land, provinces and regions; the exact
    zone (the zone on the national territory); the sent polygon(s) partners received; each
    trusted location's circle; the report's last-seen point and each trusted sighting; the
    heading corridor when a direction of travel is known. Labelled with the place, the
    version, its message type and time window, with a legend, a scale bar (true at the map's
    middle latitude), the vertex count, the land and sea overshoot in metres and the
    targeting. Every text is escaped; the picture holds no script and loads nothing.

    A version's picture never changes: with `sequence` it may be cached for a year; without,
    it is revalidated each time (the current version moves on). Either way a request with
    `If-None-Match` holding its `ETag` gets 304 without the picture being drawn again.

    **Scope:** `alerts:read`. **Events:** none.
    """
    shown = await alerts.shown_version(alert_id, sequence)
    alert, message, computed_at = shown.alert, shown.message, shown.zone_computed_at
    locations = locations_of(alert)
    sources = map_sources(request)
    base = await run_in_threadpool(sources.base_map)
    etag = picture_etag(
        message.model_dump_json(),
        computed_at.isoformat(),
        alert.travel_mode,
        repr(locations),
        base.etag,
    )
    cache_control = CURRENT_SVG_CACHE_CONTROL if sequence is None else PINNED_SVG_CACHE_CONTROL
    cache_headers = {"ETag": etag, "Cache-Control": cache_control}
    if matches(if_none_match, etag):
        return Response(status_code=304, headers={**SVG_HEADERS, **cache_headers})

    def render() -> str:
        zone = rebuild_zone(message, locations, alert.travel_mode, sources.policy(), computed_at)
        return version_svg(message, zone, sources.base_map().base)

    picture = await run_in_threadpool(render)
    filename = f"alert-{alert.id}-{message.sequence}.svg"
    headers = {
        **SVG_HEADERS,
        **cache_headers,
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    return Response(picture.encode(), media_type=SVG, headers=headers)


def picture_etag(*inputs: str) -> str:
    """A strong ETag over everything the picture is drawn from (and the drawing's revision),
    so it is known without drawing it."""
    digest = hashlib.sha256(PICTURE_REVISION.encode())
    for source in inputs:
        digest.update(len(source).to_bytes(8, "big"))
        digest.update(source.encode())
    return f'"{digest.hexdigest()[:32]}"'
