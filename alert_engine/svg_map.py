"""An SVG map from shapely geometries: pure, no I/O, no plotting library.

Lon/lat are drawn equirectangular with the longitude scaled by cos(latitude) at the frame's
middle, so a disk a few hundred kilometres wide looks round, as on a map; the scale bar is
true at that latitude.

Every text may come from a report (a place name, a child's name): each is escaped, and
characters XML cannot carry are dropped, so the picture is always well-formed XML and a
``<script>`` in a name is drawn as text. The document itself has no script, link or
reference to anything outside it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from alert_engine.geodesy import WGS84

Frame = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


# XML 1.0 allows tab, newline, carriage return and everything from U+0020 but surrogates and
# U+FFFE/U+FFFF; the rest cannot be written even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SEA = "#dcecf7"
_LINE_HEIGHT = 18
_PIXEL_TOLERANCE = 0.3  # a vertex nearer than this to its neighbours' line changes no pixel


def xml_text(text: str) -> str:
    """``text`` as XML character data or an attribute value: escaped, XML-legal."""
    return escape(_NOT_XML.sub("", text), quote=True)


@dataclass(frozen=True)
class Layer:
    label: str  # shown in the legend; empty: not listed
    geometry: BaseGeometry
    fill: str = "none"
    stroke: str = "none"
    stroke_width: float = 1.0
    fill_opacity: float = 1.0
    dash: str | None = None
    key: str = ""  # the element's id: what the layer is, for readers of the SVG
    # Drawn with every vertex (a polygon whose vertices are counted); otherwise thinned to
    # what a pixel shows.
    every_vertex: bool = False


@dataclass(frozen=True)
class Marker:
    """A point drawn as a dot with a label beside it."""

    lon: float
    lat: float
    label: str
    fill: str
    stroke: str = "#ffffff"
    radius: float = 5.0
    kind: str = ""  # the element's class


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

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x = (lon - self.frame[0]) * self.x_factor * self.scale
        return x, (self.frame[3] - lat) * self.scale

    def points(self, coords: npt.NDArray[np.float64]) -> str:
        """Lon/lat rows as ``x,y`` pixel pairs, one decimal, joined by `` L``."""
        x = (coords[:, 0] - self.frame[0]) * (self.x_factor * self.scale)
        y = (self.frame[3] - coords[:, 1]) * self.scale
        return " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(x.tolist(), y.tolist(), strict=True))


def _path(geometry: BaseGeometry, projection: _Projection) -> str:
    """SVG path data: every ring closed by ``Z`` (its closing repeat not written, so a ring
    has as many points as vertices), every line open."""
    commands = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, shapely.Polygon):
            rings = [part.exterior, *part.interiors]
            lines = [shapely.get_coordinates(ring)[:-1] for ring in rings]
            closed = True
        elif isinstance(part, shapely.LineString | shapely.LinearRing):
            lines, closed = [shapely.get_coordinates(part)], False
        else:
            continue  # points are markers
        for line in lines:
            if len(line) >= 2:
                commands.append("M" + projection.points(line) + (" Z" if closed else ""))
    return " ".join(commands)


def km_per_pixel(frame: Frame, width: int) -> float:
    """Ground distance of a pixel along the frame's middle latitude (on the ellipsoid)."""
    min_x, min_y, max_x, max_y = frame
    middle = (min_y + max_y) / 2
    _, _, metres = WGS84.inv(min_x, middle, max_x, middle)
    return float(metres) / 1000.0 / width


def _nice_length(at_most_km: float) -> float:
    """The longest 1, 2 or 5 × 10ⁿ km not above ``at_most_km``."""
    power = 10.0 ** math.floor(math.log10(at_most_km))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= at_most_km)


def _scale_bar(frame: Frame, width: int, map_height: float) -> str:
    """A bar of a round number of km, about a fifth of the width, bottom left of the map."""
    per_pixel = km_per_pixel(frame, width)
    length_km = _nice_length(width / 5 * per_pixel)
    pixels = length_km / per_pixel
    x, y = 12.0, map_height - 14.0
    label = f"{length_km:g} km"
    return (
        f'<g id="scale-bar" data-km="{length_km:g}" data-px="{pixels:.2f}">'
        f'<rect x="{x - 4:.0f}" y="{y - 18:.0f}" width="{pixels + 8:.1f}" height="26" '
        'fill="#ffffff" fill-opacity="0.8"/>'
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{pixels:.2f}" height="4" fill="#333333"/>'
        f'<text x="{x:.0f}" y="{y - 5:.0f}" font-size="11">{label}</text></g>'
    )


def svg_picture(
    layers: Sequence[Layer],
    frame: Frame,
    *,
    title: str,
    notes: Sequence[str] = (),
    markers: Sequence[Marker] = (),
    legend_markers: Sequence[Marker] = (),
    width: int = 800,
) -> str:
    """The layers, bottom first, clipped to ``frame``, then the markers; the sea under all;
    a scale bar; the title, a legend and ``notes`` underneath."""
    min_x, min_y, max_x, max_y = frame
    x_factor = math.cos(math.radians((min_y + max_y) / 2))
    scale = width / ((max_x - min_x) * x_factor)
    projection = _Projection(frame, scale, x_factor)
    map_height = (max_y - min_y) * scale
    listed = [layer for layer in layers if layer.label]
    legend_lines = len(listed) + len(legend_markers)
    height = map_height + _LINE_HEIGHT * (legend_lines + len(notes) + 2)
    box = shapely.box(*frame)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="sans-serif" font-size="13">',
        f"<title>{xml_text(title)}</title>",
        f'<rect id="sea" width="{width}" height="{map_height:.1f}" fill="{_SEA}"/>',
    ]
    for layer in layers:
        # Inside the frame a layer is drawn as it is (a sent polygon keeps every vertex).
        inside = shapely.covers(box, layer.geometry)
        drawn = layer.geometry if inside else shapely.clip_by_rect(layer.geometry, *frame)
        if drawn.is_empty:
            continue
        if not layer.every_vertex:
            drawn = shapely.simplify(drawn, _PIXEL_TOLERANCE / scale, preserve_topology=True)
        dash = f' stroke-dasharray="{layer.dash}"' if layer.dash else ""
        key = f' id="{xml_text(layer.key)}"' if layer.key else ""
        out.append(
            f'<path{key} d="{_path(drawn, projection)}" fill="{layer.fill}" '
            f'fill-opacity="{layer.fill_opacity}" fill-rule="evenodd" stroke="{layer.stroke}" '
            f'stroke-width="{layer.stroke_width}"{dash}/>'
        )
    for marker in markers:
        x, y = projection.xy(marker.lon, marker.lat)
        kind = f' class="{xml_text(marker.kind)}"' if marker.kind else ""
        out.append(
            f'<g{kind}><circle cx="{x:.1f}" cy="{y:.1f}" r="{marker.radius:g}" '
            f'fill="{marker.fill}" stroke="{marker.stroke}" stroke-width="1.5"/>'
            f'<text x="{x + marker.radius + 3:.1f}" y="{y + 4:.1f}" font-size="12" '
            'stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{xml_text(marker.label)}</text></g>"
        )
    out.append(_scale_bar(frame, width, map_height))
    y = map_height + _LINE_HEIGHT
    out.append(f'<text id="title" x="8" y="{y:.0f}" font-weight="bold">{xml_text(title)}</text>')
    for layer in listed:
        y += _LINE_HEIGHT
        out.append(
            f'<rect x="8" y="{y - 11:.0f}" width="22" height="12" fill="{layer.fill}" '
            f'fill-opacity="{layer.fill_opacity}" stroke="{layer.stroke}" '
            f'stroke-width="{layer.stroke_width}"/>'
            f'<text class="legend" x="38" y="{y:.0f}">{xml_text(layer.label)}</text>'
        )
    for marker in legend_markers:
        y += _LINE_HEIGHT
        out.append(
            f'<circle cx="19" cy="{y - 5:.0f}" r="{marker.radius:g}" fill="{marker.fill}" '
            f'stroke="#333333" stroke-width="1"/>'
            f'<text class="legend" x="38" y="{y:.0f}">{xml_text(marker.label)}</text>'
        )
    for note in notes:
        y += _LINE_HEIGHT
        out.append(f'<text class="note" x="8" y="{y:.0f}">{xml_text(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
