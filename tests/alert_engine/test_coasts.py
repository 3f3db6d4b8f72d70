"""The coasts' runs are settled by their boxes as the geometry's own predicates settle them."""

from __future__ import annotations

import numpy as np
import shapely

from alert_engine.coasts import _INSIDE, _OUTSIDE, _UNDECIDED, _runs_against


def test_a_run_is_settled_as_its_box_relates_to_the_geometry() -> None:
    # Boxes well inside, well outside, straddling the edge, touching it from outside, lying
    # on it from inside, and inside the hole of a ring: each settled as contains_properly and
    # intersects would settle it, each run once however many of its segments are asked about.
    ring = shapely.Polygon(
        [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
        [[(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0)]],
    )
    shapely.prepare(ring)
    boxes = shapely.box(
        np.array([1.0, 20.0, 9.0, 10.0, 0.0, 4.5, 3.0, -5.0]),
        np.array([1.0, 20.0, 9.0, 3.0, 1.0, 4.5, 3.0, -5.0]),
        np.array([2.0, 21.0, 11.0, 12.0, 1.0, 5.5, 7.0, -4.0]),
        np.array([2.0, 21.0, 9.5, 4.0, 2.0, 5.5, 7.0, -4.0]),
    )
    run = np.array([0, 0, 1, 2, 3, 3, 3, 4, 5, 6, 6])  # box 7 is asked about by no segment

    state = _runs_against(ring, boxes, run)

    expected = np.full(len(boxes), _UNDECIDED, dtype=np.int8)
    expected[shapely.contains_properly(ring, boxes)] = _INSIDE
    expected[~shapely.intersects(ring, boxes)] = _OUTSIDE
    assert np.array_equal(state, expected[run])
    assert set(state) == {_INSIDE, _OUTSIDE, _UNDECIDED}
