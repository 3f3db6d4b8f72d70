"""Map endpoints: the base map the console draws under zones, and each alert version as a
picture rendered on the server.

The boundaries come from ``MapSources``, which the process wiring puts on ``app.state.maps``
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

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from alert_engine.base_map import BaseMap, base_map, feature_collection
from alert_engine.territory import Territory
from alert_engine.zones import ZonePolicy
from shared.auth import SCOPES, Principal, require_scope
from shared.problem_schema import AUTHENTICATED, problem_responses

GEOJSON = "application/geo+json"
# The base map holds no case data: any working key may read it (a key with no scope at all
# is refused, as it may read nothing else either). The document names ``alerts:read``.
AnyKey = Annotated[Principal, require_scope("alerts:read", *sorted(SCOPES - {"alerts:read"}))]
# The boundary files change only with a deployment, and the ETag tells a browser when.
BASE_MAP_CACHE_CONTROL = "private, max-age=86400"

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
        self.policy = policy
        self._base: BaseMapDocument | None = None
        self._lock = threading.Lock()

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
    sources: MapSources = request.app.state.maps
    return sources


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


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
        304: {"description": "Not modified: the copy whose ETag was sent is current."},
        **problem_responses(*AUTHENTICATED),
    },
    operation_id="alerts_base_map",
    summary="The base map: regions, provinces, foreign land",
)
async def read_base_map(
    request: Request,
    _: AnyKey,
    if_none_match: Annotated[
        str | None, Header(description="The ETag of a copy already held.")
    ] = None,
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
    if _matches(if_none_match, document.etag):
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(document.gzipped, media_type=GEOJSON, headers=headers)
    return Response(document.body, media_type=GEOJSON, headers=headers)
