"""What is sent, part by part: hole-free rings, no wasted vertices, nothing CAP's rounding
turns into a repeated point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from alert_engine.cap import cap_polygon
from alert_engine.footprint import DEFAULT_MAX_POLYGONS, footprint, sendable, vertex_count
from alert_engine.grid_cuts import split_to_fit
from alert_engine.hole_free import has_holes, hole_free_parts
from alert_engine.short_edges import drop_short_edges
from alert_engine.territory import default_paths, load_territory
from shared.alert_contract import Point

GEOD = Geod(ellps="WGS84")
TERRITORY = load_territory(*default_paths())
SQUARE = [(-7.6, 33.5), (-7.4, 33.5), (-7.4, 33.7), (-7.6, 33.7)]
HOLES = [
    [(-7.55, 33.55), (-7.52, 33.55), (-7.52, 33.58), (-7.55, 33.58)],
    [(-7.47, 33.62), (-7.44, 33.62), (-7.44, 33.66)],
]


def _edges_m(ring: shapely.LinearRing) -> np.ndarray:
    c = shapely.get_coordinates(ring)
    _, _, d = GEOD.inv(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1])
    return np.asarray(d)


def test_holes_are_cut_into_parts_that_tile_the_polygon() -> None:
    polygon = shapely.Polygon(SQUARE, HOLES)
    parts = hole_free_parts(polygon)
    assert len(parts) >= 2 and not has_holes(parts)
    assert all(p.is_valid for p in parts)
    assert shapely.symmetric_difference(shapely.union_all(parts), polygon).area < 1e-12
    # They tile it: no overlap (the areas add up), and the holes stay out.
    assert abs(sum(p.area for p in parts) - polygon.area) < 1e-12
    for hole in HOLES:
        inside = shapely.Polygon(hole).point_on_surface()
        assert not any(p.intersects(inside) for p in parts)


def test_sendable_parts_are_on_the_grid_and_within_the_part_limit() -> None:
    polygon = shapely.Polygon(SQUARE, HOLES)
    parts = sendable(polygon, max_polygons=8)
    assert not has_holes(list(parts))
    coords = np.concatenate([shapely.get_coordinates(p) for p in parts])
    assert np.allclose(coords, np.round(coords, 6), rtol=0, atol=1e-12)
    # One part only allowed: the holes are filled in (wider, never narrower).
    [whole] = sendable(polygon, max_polygons=1)
    assert not whole.interiors and whole.covers(shapely.Polygon(SQUARE).buffer(-1e-6))


def test_short_edges_go_and_the_polygon_only_grows_at_reflex_corners() -> None:
    # A notch 0.3 m wide and deep (≈ 3e-6°) in the top edge: its floor has two reflex corners.
    notch = 3e-6
    polygon = shapely.Polygon(
        [(-7.6, 33.5), (-7.4, 33.5), (-7.4, 33.7), (-7.5 + notch, 33.7),
         (-7.5 + notch, 33.7 - notch), (-7.5, 33.7 - notch), (-7.5, 33.7), (-7.6, 33.7)]
    )  # fmt: skip
    assert polygon.is_valid and min(_edges_m(polygon.exterior)) < 1.0
    tidy = drop_short_edges(polygon, 1.0)
    assert tidy.is_valid and vertex_count(tidy) < vertex_count(polygon)
    assert min(_edges_m(tidy.exterior)) >= 1.0
    assert tidy.covers(polygon)  # removing the reflex corners first only adds area
    # A polygon with no short edge is returned as is.
    square = shapely.Polygon(SQUARE)
    assert shapely.equals_exact(drop_short_edges(square, 1.0), square)


def _centres(count: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = TERRITORY.national.bounds
    lons, lats = rng.uniform(minx, maxx, 20 * count), rng.uniform(miny, maxy, 20 * count)
    inside = shapely.contains_xy(TERRITORY.national, lons, lats)
    return list(zip(lons[inside][:count].tolist(), lats[inside][:count].tolist(), strict=True))


def test_no_vertex_is_wasted_over_many_zones() -> None:
    rng = np.random.default_rng(11)
    checked = 0
    for lon, lat in _centres(60, seed=11):
        km = float(rng.uniform(5.0, 500.0))
        fp = footprint(Point(lon=lon, lat=lat), km, TERRITORY, 100)
        for part in fp.parts:
            assert not part.interiors and vertex_count(part) <= 100
            assert min(_edges_m(part.exterior)) >= 1.0
            pairs = cap_polygon(shapely.get_coordinates(part.exterior).tolist()).split(" ")
            # No point twice in a ring once rounded (so none repeated consecutively either).
            assert len(set(pairs[:-1])) == len(pairs) - 1
            checked += 1
    assert checked >= 60


def test_a_polygon_over_the_budget_is_cut_into_parts_that_tile_it() -> None:
    # A jagged 400-gon: a star whose spikes make every cut line cross it many times.
    angles = np.linspace(0.0, 2 * np.pi, 400, endpoint=False)
    radius = np.where(np.arange(400) % 2 == 0, 1.0, 0.6)
    star = shapely.Polygon(
        np.column_stack([-6 + radius * np.cos(angles), 32 + radius * np.sin(angles)])
    )
    parts = split_to_fit(star, 100)
    assert len(parts) >= 4 and all(vertex_count(p) <= 100 for p in parts)
    assert all(p.is_valid and not p.interiors for p in parts)
    # A tiling: together exactly the polygon, and no two overlap.
    assert shapely.union_all(parts).symmetric_difference(star).area < 1e-12
    assert sum(p.area for p in parts) == pytest.approx(star.area, rel=1e-12)
    # A gently wavy 400-gon needs few parts; what is sent is on the grid and still tiles it
    # (the cuts run along grid lines, so rounding keeps both sides of a cut alike).
    wavy = shapely.Polygon(
        np.column_stack([-6 + (1 + 0.01 * radius) * np.cos(angles), 32 + np.sin(angles)])
    )
    sent = sendable(wavy, max_polygons=8, max_vertices=100)
    assert 4 <= len(sent) <= 6 and all(vertex_count(p) <= 100 for p in sent)
    coords = np.concatenate([shapely.get_coordinates(p) for p in sent])
    assert np.allclose(coords, np.round(coords, 6), rtol=0, atol=1e-12)
    region = shapely.union_all(sent)
    assert region.covers(wavy.buffer(-1e-6)) and wavy.buffer(1e-6).covers(region)
    assert sum(p.area for p in sent) == pytest.approx(region.area, rel=1e-9)


def test_several_parts_meet_the_rule_where_one_polygon_cannot() -> None:
    marrakech = Point(lon=-7.99, lat=31.63)
    one = footprint(marrakech, 300.0, TERRITORY, 100, max_polygons=1)
    several = footprint(marrakech, 300.0, TERRITORY, 100)
    assert not one.meets_wea_rule and several.meets_wea_rule
    assert 1 < len(several.parts) <= DEFAULT_MAX_POLYGONS
    assert all(vertex_count(p) <= 100 and not p.interiors for p in several.parts)
    region = shapely.union_all(several.parts)
    assert region.covers(several.exact)
    # The parts tile the region: their areas add up to its area (no overlap).
    assert sum(p.area for p in several.parts) == pytest.approx(region.area, rel=1e-9)


def test_a_cut_needed_anyway_runs_through_a_hole_and_saves_a_part() -> None:
    # A wavy 500-gon (5 parts' worth of vertices) around an enclave. Halving it again and
    # again, then cutting the enclave out with a chord, takes 8 parts; a cut through the
    # enclave does both jobs.
    angles = np.linspace(0.0, 2 * np.pi, 500, endpoint=False)
    radius = 1 + 0.01 * (np.arange(500) % 2)
    ring = np.column_stack([-6 + radius * np.cos(angles), 32 + radius * np.sin(angles)])
    enclave = shapely.Point(-6.3, 32.1).buffer(0.05, quad_segs=4)
    polygon = shapely.Polygon(ring, [enclave.exterior.coords])
    parts = split_to_fit(polygon, 100)
    assert len(parts) <= 7 and all(vertex_count(p) <= 100 for p in parts)
    assert not any(p.interiors for p in parts)  # the enclave is a notch, not a hole
    assert shapely.union_all(parts).symmetric_difference(polygon).area < 1e-12
    assert sum(p.area for p in parts) == pytest.approx(polygon.area, rel=1e-12)
    assert not any(p.intersects(enclave.buffer(-1e-4)) for p in parts)
