"""The allowed areas shipped beside the boundaries: drawn from them, containing the
territory, and reaching onto foreign land no farther than each layer says.

The reach is measured here with the tests' own projection (``metric_view``: pyproj's
azimuthal equidistant, centred on each stretch of border), not in the affine plane the
layers are drawn in: a plane centred on the country stretches distances by up to ~6% at its
southern end.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import shapely

from alert_engine.allowed_area import AllowedLayer, allowed_layers, layers_document
from alert_engine.territory import Territory, default_paths, load_territory
from tests.alert_engine.metric_view import metric_projection

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


def _strips(territory: Territory) -> list[tuple[float, float, float, float]]:
    """The territory's box in strips 6° of longitude wide (each measured on its own)."""
    minx, miny, maxx, maxy = territory.national.bounds
    edges = np.append(np.arange(minx, maxx, 6.0), maxx)
    return [(float(a), miny, float(b), maxy) for a, b in itertools.pairwise(edges)]


def _area_beyond_reach(
    layer: AllowedLayer, box: tuple[float, float, float, float], margin_m: float
) -> float:
    """The area (m²) of the layer on foreign land farther than its reach plus ``margin_m``
    from the territory, within one strip."""
    on_foreign = shapely.intersection(
        shapely.clip_by_rect(layer.polygon, *box), TERRITORY.foreign_land
    )
    if on_foreign.is_empty:
        return 0.0
    minx, miny, maxx, maxy = on_foreign.bounds
    project = metric_projection(((minx + maxx) / 2, (miny + maxy) / 2))
    pad = 0.05  # degrees: the territory nearest to it may lie just outside the strip
    near = shapely.clip_by_rect(TERRITORY.national, minx - pad, miny - pad, maxx + pad, maxy + pad)
    # Projecting can make rings that nearly touch cross: repaired before the overlay.
    grown = shapely.buffer(shapely.make_valid(project(near)), layer.reach_m + margin_m)
    return float(shapely.difference(shapely.make_valid(project(on_foreign)), grown).area)


@pytest.mark.parametrize("reach", [20.0, 140.0, 600.0])
def test_no_layer_reaches_onto_foreign_land_beyond_its_reach(
    shipped: tuple[AllowedLayer, ...], reach: float
) -> None:
    layer = next(layer for layer in shipped if layer.reach_m == reach)
    beyond = {
        box: _area_beyond_reach(layer, box, margin_m=0.07 * reach) for box in _strips(TERRITORY)
    }
    assert all(area < 1.0 for area in beyond.values()), beyond
