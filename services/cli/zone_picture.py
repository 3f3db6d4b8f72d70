"""An SVG picture of a zone from shapely geometries: pure, no I/O, no plotting library.

Lon/lat are drawn equirectangular with the longitude scaled by cos(latitude) at the frame's
middle, so a disk a few hundred kilometres wide looks round, as on a map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import shapely
from shapely.geometry.base import BaseGeometry

Frame = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


@dataclass(frozen=True)
class Layer:
    label: str  # shown in the legend; empty: not listed
    geometry: BaseGeometry
    fill: str = "none"
    stroke: str = "none"
    stroke_width: float = 1.0
    fill_opacity: float = 1.0
    dash: str | None = None


def frame_around(geometry: BaseGeometry, margin: float = 0.15) -> Frame:
    """The geometry's bounds widened by ``margin`` of its size on each side."""
    min_x, min_y, max_x, max_y = geometry.bounds
    pad_x, pad_y = (max_x - min_x) * margin, (max_y - min_y) * margin
    return (min_x - pad_x, min_y - pad_y, max_x + pad_x, max_y + pad_y)


@dataclass(frozen=True)
class _Projection:
    frame: Frame
    scale: float  # pixels per degree of latitude
    x_factor: float  # cos(middle latitude)

    def point(self, lon: float, lat: float) -> str:
        x = (lon - self.frame[0]) * self.x_factor * self.scale
        y = (self.frame[3] - lat) * self.scale
        return f"{x:.1f},{y:.1f}"


def _path(geometry: BaseGeometry, projection: _Projection) -> str:
    """SVG path data: every ring closed (``Z``), every line open."""
    commands = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, shapely.Polygon):
            lines = [part.exterior, *part.interiors]
            closed = True
        elif isinstance(part, shapely.LineString | shapely.LinearRing):
            lines, closed = [part], False
        else:
            continue  # points add nothing to a picture of areas
        for line in lines:
            coords = [projection.point(x, y) for x, y in line.coords]
            if len(coords) >= 2:
                commands.append("M" + " L".join(coords) + (" Z" if closed else ""))
    return " ".join(commands)


def svg_picture(
    layers: Sequence[Layer],
    frame: Frame,
    *,
    title: str,
    notes: Sequence[str] = (),
    width: int = 800,
) -> str:
    """The layers, bottom first, clipped to ``frame``; a legend and ``notes`` underneath."""
    min_x, min_y, max_x, max_y = frame
    x_factor = math.cos(math.radians((min_y + max_y) / 2))
    scale = width / ((max_x - min_x) * x_factor)
    projection = _Projection(frame, scale, x_factor)
    map_height = (max_y - min_y) * scale
    listed = [layer for layer in layers if layer.label]
    line_height = 18
    height = map_height + line_height * (len(listed) + len(notes) + 2)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{map_height:.1f}" fill="#dcecf7"/>',  # the sea
    ]
    for layer in layers:
        clipped = shapely.clip_by_rect(layer.geometry, *frame)
        if clipped.is_empty:
            continue
        dash = f' stroke-dasharray="{layer.dash}"' if layer.dash else ""
        out.append(
            f'<path d="{_path(clipped, projection)}" fill="{layer.fill}" '
            f'fill-opacity="{layer.fill_opacity}" fill-rule="evenodd" stroke="{layer.stroke}" '
            f'stroke-width="{layer.stroke_width}"{dash}/>'
        )
    y = map_height + line_height
    out.append(f'<text x="8" y="{y:.0f}" font-weight="bold">{escape(title)}</text>')
    for layer in listed:
        y += line_height
        swatch = layer.fill if layer.fill != "none" else "none"
        out.append(
            f'<rect x="8" y="{y - 11:.0f}" width="22" height="12" fill="{swatch}" '
            f'fill-opacity="{layer.fill_opacity}" stroke="{layer.stroke}" '
            f'stroke-width="{layer.stroke_width}"/>'
            f'<text x="38" y="{y:.0f}">{escape(layer.label)}</text>'
        )
    for note in notes:
        y += line_height
        out.append(f'<text x="8" y="{y:.0f}">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
