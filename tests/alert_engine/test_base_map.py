"""GET /v1/map/base: the boundaries to draw zones on, small, cached, readable by any key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry import shape

from alert_engine.base_map import DISPLAY_TOLERANCE_DEG, base_map, feature_collection
from alert_engine.territory import default_paths, load_territory
from shared.auth import create_api_key
from shared.problems import PROBLEM_JSON
from tests.conftest import Stack

# What a browser downloads once: a tenth of the 2.5 MB of boundary data shipped.
MAX_BYTES = 400_000
MAX_GZIPPED_BYTES = 130_000


def test_every_area_stays_within_a_few_hundred_metres_of_the_source() -> None:
    territory = load_territory(*default_paths())
    base = base_map(territory)
    sources = {a.code: a.geometry for a in (*territory.regions, *territory.provinces)}
    simplified = {str(a.code): a.geometry for a in (*base.layer("region"), *base.layer("province"))}
    assert simplified.keys() == sources.keys()
    for code, geometry in simplified.items():
        assert geometry.is_valid, code
        # In degrees: 0.006° is at most 670 m. Douglas-Peucker keeps within the tolerance
        # except where it moves a ring's start, which it may (measured: up to 1.7 times).
        assert shapely.hausdorff_distance(geometry, sources[code]) < DISPLAY_TOLERANCE_DEG * 2
    source_vertices = sum(shapely.get_num_coordinates(g) for g in sources.values())
    kept = sum(shapely.get_num_coordinates(g) for g in simplified.values())
    assert kept < source_vertices / 4
    [foreign] = base.layer("foreign")
    # Spain across the strait and Algeria are drawn; the far side of the world is not.
    assert foreign.geometry.intersects(shapely.Point(-5.6, 36.5))
    assert foreign.geometry.intersects(shapely.Point(-1.0, 33.0))
    assert not foreign.geometry.intersects(shapely.box(10, 45, 20, 55))
    # Foreign land and the territory do not overlap beyond the display tolerance.
    national = territory.national
    assert shapely.area(shapely.intersection(foreign.geometry, national)) < 1e-3 * national.area
    assert feature_collection(base)["type"] == "FeatureCollection"


async def test_the_base_map_is_a_small_feature_collection_of_three_layers(stack: Stack) -> None:
    async with stack.client("reader") as reader:
        response = await reader.get("/v1/map/base", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    assert "content-encoding" not in response.headers
    assert len(response.content) < MAX_BYTES
    document = response.json()
    assert document["type"] == "FeatureCollection"
    layers: dict[str, list[dict[str, Any]]] = {}
    for feature in document["features"]:
        layers.setdefault(feature["properties"]["layer"], []).append(feature)
        geometry = shape(feature["geometry"])
        assert geometry.geom_type in ("Polygon", "MultiPolygon")
        assert geometry.is_valid and not geometry.is_empty
        assert feature["properties"]["name"]
    assert set(layers) == {"region", "province", "foreign"}
    assert len(layers["region"]) == 12
    assert len(layers["province"]) == 75
    assert len(layers["foreign"]) == 1
    regions = {f["properties"]["code"]: f["properties"] for f in layers["region"]}
    assert regions["MA-06"]["name"] == "Casablanca-Settat"
    assert regions["MA-06"]["name_ar"] == "الدار البيضاء-سطات"
    for province in layers["province"]:
        properties = province["properties"]
        assert properties["region"] in regions
        assert properties["name_ar"]


async def test_the_base_map_is_cached_by_its_etag_and_sent_gzipped(stack: Stack) -> None:
    async with stack.client("reader") as reader:
        first = await reader.get("/v1/map/base", headers={"Accept-Encoding": "gzip"})
        assert first.status_code == 200
        assert first.headers["content-encoding"] == "gzip"
        assert int(first.headers["content-length"]) < MAX_GZIPPED_BYTES
        assert "max-age=" in first.headers["cache-control"]
        etag = first.headers["etag"]
        # httpx decoded it: the same document as the identity encoding.
        plain = await reader.get("/v1/map/base", headers={"Accept-Encoding": "identity"})
        assert plain.headers["etag"] == etag
        assert plain.json() == first.json()

        again = await reader.get("/v1/map/base", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        stale = await reader.get("/v1/map/base", headers={"If-None-Match": '"older"'})
        assert stale.status_code == 200


async def test_any_key_reads_the_base_map_and_no_key_does_not(stack: Stack) -> None:
    async with stack.embedded.sessions() as session, session.begin():
        scopeless = await create_api_key(session, "scopeless", [], datetime.now(UTC))
    stack.keys["scopeless"] = scopeless
    for persona in ("submitter", "admin"):  # neither holds alerts:read
        async with stack.client(persona) as client:
            assert (await client.get("/v1/map/base")).status_code == 200
    async with stack.client() as anonymous:
        missing = await anonymous.get("/v1/map/base")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == PROBLEM_JSON
    async with stack.client("scopeless") as client:
        refused = await client.get("/v1/map/base")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM_JSON
