"""The grid's nearest-segment search gives what reading every segment gives, to the bit."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from alert_engine.distance_search import Boundary, _nearest_knots

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _every_segment(
    points: FloatArray, starts: FloatArray, ends: FloatArray
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Each point's nearest segment by reading them all (the search's arithmetic, of equally
    near segments the lowest index): distance, segment, nearest point."""
    a, d = starts[None, :, :], (ends - starts)[None, :, :]
    p = points[:, None, :]
    length2 = d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]
    along = (p[..., 0] - a[..., 0]) * d[..., 0] + (p[..., 1] - a[..., 1]) * d[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length2 > 0.0, np.clip(along / length2, 0.0, 1.0), 0.0)
    qx, qy = a[..., 0] + t * d[..., 0], a[..., 1] + t * d[..., 1]
    d2 = (p[..., 0] - qx) * (p[..., 0] - qx) + (p[..., 1] - qy) * (p[..., 1] - qy)
    segment = np.argmin(d2, axis=1)  # the first of equal minima: the lowest index
    rows = np.arange(len(points))
    closest = np.column_stack([qx[rows, segment], qy[rows, segment]])
    return np.sqrt(d2[rows, segment]), segment, closest


def _jagged_rings(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, IntArray]:
    """Two rings, one a dense jagged coast around 60 km with a few long chords, one a small
    island; and a segment repeated (equally near segments everywhere along it)."""
    angle = np.sort(rng.uniform(0.0, 2 * np.pi, 700))
    radius = 60_000.0 + rng.normal(0.0, 800.0, len(angle))
    radius[::90] += 15_000.0  # spikes: long segments spanning many cells
    coast = np.column_stack([np.cos(angle) * radius, np.sin(angle) * radius])
    island = np.array([[5_000.0, 5_000.0], [6_000.0, 5_200.0], [5_500.0, 6_100.0]])
    starts = np.concatenate([coast, island, coast[:1]])
    ends = np.concatenate([np.roll(coast, -1, axis=0), np.roll(island, -1, axis=0), coast[1:2]])
    ring = np.concatenate([np.zeros(len(coast)), np.ones(len(island)), [0]]).astype(np.int64)
    return starts, ends, ring


def test_the_grid_search_finds_what_every_segment_gives() -> None:
    # Points near the boundary (where a cell's own segments usually settle it), exactly on
    # the sides of cells (where a segment just across one must still be seen), on vertices,
    # outside the grid, and far away (where every segment is read).
    rng = np.random.default_rng(3)
    starts, ends, ring = _jagged_rings(rng)
    boundary = Boundary.of(starts, ends, ring)
    x0, y0, cell, columns, rows, _, _ = boundary.grid
    near = starts[rng.integers(len(starts), size=1500)] + rng.normal(0.0, 300.0, (1500, 2))
    column = rng.integers(0, columns + 1, 500)
    on_sides = np.column_stack([x0 + column * cell, rng.uniform(y0, y0 + rows * cell, 500)])
    row = rng.integers(0, rows + 1, 500)
    on_rows = np.column_stack([rng.uniform(x0, x0 + columns * cell, 500), y0 + row * cell])
    span = max(columns, rows) * cell
    anywhere = rng.uniform(-1.5 * span, 1.5 * span, (1500, 2))
    far = rng.uniform(-1.0, 1.0, (200, 2)) * 50 * span
    points = np.concatenate([near, on_sides, on_rows, starts, anywhere, far])

    f, segment, closest = boundary.nearest(points)

    expected_f, expected_segment, expected_closest = _every_segment(points, starts, ends)
    assert np.array_equal(f, expected_f)
    assert np.array_equal(segment, expected_segment)
    assert np.array_equal(closest, expected_closest)
    assert (segment == len(starts) - 1).sum() == 0  # the repeat loses to the lower index


def test_knots_repeating_the_one_before_are_answered_as_searched() -> None:
    # A polygon's consecutive edges, each its own line, give each vertex twice in a row: the
    # repeat takes the answer before it. It must be the search's own, to the bit: on a vertex
    # of the boundary (equally near segments), off it, at the origin with either sign of
    # zero, where only one coordinate repeats, and where a point comes back after others
    # (only a repeat in a row is reused).
    rng = np.random.default_rng(5)
    starts, ends, ring = _jagged_rings(rng)
    boundary = Boundary.of(starts, ends, ring)
    vertices = np.concatenate([starts[:40], rng.normal(0.0, 70_000.0, (40, 2))])
    twice = np.repeat(vertices, 2, axis=0)  # each edge's end, then the next one's start
    signed_zeros = np.array([[0.0, 0.0], [-0.0, 0.0], [0.0, -0.0], [-0.0, -0.0]])
    one_coordinate = np.array([[1_000.0, 2_000.0], [1_000.0, 2_500.0], [1_500.0, 2_500.0]])
    points = np.concatenate([twice, signed_zeros, one_coordinate, vertices[:5], twice[:3]])

    f, segment, closest = _nearest_knots(points, boundary.starts, boundary.ends, boundary.grid)

    expected_f, expected_segment, expected_closest = boundary.nearest(points)
    assert np.array_equal(f, expected_f)
    assert np.array_equal(segment, expected_segment)
    assert np.array_equal(closest, expected_closest)
