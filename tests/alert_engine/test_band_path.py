"""A polygon drawn through the band between a region and that region grown by a width.

Synthetic regions in metres: a coast-like edge with wiggles smaller than the band, islets
inside the band, and a narrow inlet, each checked for what the allowed areas rely on.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from alert_engine.band_path import band_polygon


def wiggly_block(amplitude: float, wavelength: float, length: float = 20_000.0) -> shapely.Polygon:
    """A block whose top edge is a sine of ``amplitude`` metres (the rest straight)."""
    x = np.linspace(0.0, length, int(length / wavelength * 16) + 1)
    top = np.column_stack([x, 5_000.0 + amplitude * np.sin(2 * np.pi * x / wavelength)])
    return shapely.Polygon([(0.0, 0.0), *top.tolist(), (length, 0.0)])


def assert_in_band(drawn: shapely.Geometry, region: shapely.Geometry, width: float) -> None:
    assert drawn.is_valid
    assert shapely.covers(drawn, shapely.buffer(region, 1.0))
    # Within the width: nothing of the drawn polygon beyond the grown region (1 cm of slack).
    assert shapely.difference(drawn, shapely.buffer(region, width + 0.01, quad_segs=16)).area < 1e-3


def test_wiggles_narrower_than_the_band_cost_no_vertices() -> None:
    region = wiggly_block(amplitude=40.0, wavelength=400.0)
    drawn = band_polygon(region, 140.0, 2.0)
    assert_in_band(drawn, region, 140.0)
    # The obvious way, simplify then grow, with the same reach: it follows the wiggles.
    tolerance = 69.0
    obvious = shapely.buffer(
        shapely.simplify(region, tolerance), tolerance + 2.0, join_style="mitre"
    )
    drawn_vertices = shapely.get_num_coordinates(drawn)
    assert drawn_vertices < shapely.get_num_coordinates(obvious) / 4
    assert drawn_vertices < 40  # the 20 km wiggly edge is a handful of straight edges


def test_wiggles_wider_than_the_band_are_followed() -> None:
    region = wiggly_block(amplitude=600.0, wavelength=4_000.0)
    drawn = band_polygon(region, 140.0, 2.0)
    assert_in_band(drawn, region, 140.0)
    # Five periods of a 600 m sine cannot be crossed by a 140 m band in a few edges.
    assert shapely.get_num_coordinates(drawn) > 5 * 4


def test_islets_and_an_inlet_inside_the_band_stay_covered() -> None:
    block = shapely.box(0.0, 0.0, 10_000.0, 5_000.0)
    # Islets just off the edge, closer than the band's width: the rings must not cut them off.
    islets = [shapely.Point(x, 5_090.0).buffer(15.0) for x in range(500, 10_000, 1_000)]
    inlet = shapely.box(4_990.0, 2_000.0, 5_010.0, 5_000.0)  # 20 m wide, 3 km deep
    region = shapely.union_all([shapely.difference(block, inlet), *islets])
    drawn = band_polygon(region, 140.0, 2.0)
    assert_in_band(drawn, region, 140.0)
    for islet in islets:
        assert shapely.covers(drawn, islet)


def test_a_hole_of_the_region_keeps_its_foreign_core_out() -> None:
    # A foreign enclave wider than the band inside the region: it stays a hole, shrunk by at
    # most the width.
    enclave = shapely.Point(5_000.0, 5_000.0).buffer(2_000.0)
    region = shapely.difference(shapely.box(0.0, 0.0, 10_000.0, 10_000.0), enclave)
    drawn = band_polygon(region, 140.0, 2.0)
    assert_in_band(drawn, region, 140.0)
    core = shapely.Point(5_000.0, 5_000.0).buffer(2_000.0 - 141.0)
    assert not shapely.intersects(drawn, core)
    assert shapely.get_num_coordinates(drawn) < shapely.get_num_coordinates(region)


@pytest.mark.parametrize(
    ("width", "clearance"), [(140.0, 0.0), (140.0, 70.0), (140.0, 43.0), (10.0, 4.0)]
)
def test_the_clearance_must_fit_in_the_band(width: float, clearance: float) -> None:
    with pytest.raises(ValueError, match="clearance"):
        band_polygon(shapely.box(0, 0, 1000, 1000), width, clearance)
