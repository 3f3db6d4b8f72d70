"""The allowed areas shipped beside the boundaries: drawn from them, containing the
territory, and reaching onto foreign land no farther than each layer says.

The reach is measured here in UTM (pyproj), not in the affine plane the layers are drawn in:
a plane centred on the country stretches distances by up to ~6% at its southern end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from alert_engine.allowed_area import AllowedLayer, allowed_layers, layers_document
from alert_engine.territory import Territory, default_paths, load_territory

TERRITORY = load_territory(*default_paths())


@pytest.fixture(scope="module")
def shipped() -> tuple[AllowedLayer, ...]:
    assert TERRITORY.precomputed_allowed, "the allowed areas file is shipped and loaded"
    return TERRITORY.precomputed_allowed


def test_the_shipped_file_is_what_the_boundaries_give_today(
    shipped: tuple[AllowedLayer, ...],
) -> None:
    fresh = allowed_layers(TERRITORY.national, TERRITORY.foreign_land)
    # Compared as written: the same document, to the file's 7 decimals.
    assert layers_document(fresh) == json.loads(default_paths()[3].read_text(encoding="utf-8"))
    assert [layer.reach_m for layer in shipped] == [layer.reach_m for layer in fresh]


def test_every_layer_contains_the_territory(shipped: tuple[AllowedLayer, ...]) -> None:
    for layer in shipped:
        assert layer.polygon.is_valid
        assert shapely.covers(layer.polygon, TERRITORY.national), layer.reach_m


def _utm_strips(territory: Territory) -> list[tuple[int, tuple[float, float, float, float]]]:
    """The UTM zones over the territory, each with its 6° strip clipped to the territory's box."""
    minx, miny, maxx, maxy = territory.national.bounds
    first, last = int((minx + 180) // 6) + 1, int((maxx + 180) // 6) + 1
    return [
        (zone, (max(minx, -180 + 6 * (zone - 1)), miny, min(maxx, -180 + 6 * zone), maxy))
        for zone in range(first, last + 1)
    ]


def _area_beyond_reach(
    layer: AllowedLayer, zone: int, box: tuple[float, float, float, float], margin_m: float
) -> float:
    """The area (m²) of the layer on foreign land farther than its reach plus ``margin_m``
    from the territory, within one UTM strip."""
    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{32600 + zone}", always_xy=True)

    def utm(geometry: shapely.Geometry) -> shapely.Geometry:
        projected = shapely.transform(geometry, lambda xy: np.column_stack(to_utm.transform(*xy.T)))
        return shapely.make_valid(projected)  # projecting can make near-touching rings cross

    on_foreign = shapely.intersection(
        shapely.clip_by_rect(layer.polygon, *box), TERRITORY.foreign_land
    )
    if on_foreign.is_empty:
        return 0.0
    minx, miny, maxx, maxy = on_foreign.bounds
    pad = 0.05  # degrees: the territory nearest to it may lie just outside the strip
    near = shapely.clip_by_rect(TERRITORY.national, minx - pad, miny - pad, maxx + pad, maxy + pad)
    grown = shapely.buffer(utm(near), layer.reach_m + margin_m, quad_segs=16)
    return float(shapely.difference(utm(on_foreign), grown).area)


@pytest.mark.parametrize("reach", [20.0, 140.0, 600.0])
def test_no_layer_reaches_onto_foreign_land_beyond_its_reach(
    shipped: tuple[AllowedLayer, ...], reach: float
) -> None:
    layer = next(layer for layer in shipped if layer.reach_m == reach)
    beyond = {
        zone: _area_beyond_reach(layer, zone, box, margin_m=0.07 * reach)
        for zone, box in _utm_strips(TERRITORY)
    }
    assert all(area < 1.0 for area in beyond.values()), beyond
