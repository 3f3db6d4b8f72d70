"""Where a case's points may lie: the territory the service alerts in, and about 50 km around
it, within a box the operator may narrow.

Pure logic, no I/O but reading the area's file once. A point outside is a mistake, never a
case: a latitude and a longitude swapped, a default (0, 0) left in a form, another country's
coordinates. Accepted, it would become an alert around that point, over foreign land or open
sea that reaches no one it should (or, where no zone can be drawn, an approval with no alert
at all), so it is refused at submission with the field named, where the officer can still
fix it. Near the border a point abroad is kept: a child may be seen just across it, and the
zone around it still reaches the territory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from shared.alert_contract import Point
from shared.problems import field_problem

# Morocco and about 50 km around it (``python -m deploy.geodata.service_area`` draws it).
AREA_FILE_NAME = "service_area.geojson"
DEFAULT_AREA_FILE = Path(__file__).parent / "data" / AREA_FILE_NAME


@dataclass(frozen=True)
class ServiceArea:
    west: float
    south: float
    east: float
    north: float
    shape: BaseGeometry | None = None  # the territory and around it; None: the box alone

    @classmethod
    def of(
        cls, box: tuple[float, float, float, float], area_file: Path | None = DEFAULT_AREA_FILE
    ) -> ServiceArea:
        return cls(*box, shape=None if area_file is None else load_area(area_file))

    def contains(self, point: Point) -> bool:
        in_box = self.west <= point.lon <= self.east and self.south <= point.lat <= self.north
        return in_box and (
            self.shape is None or bool(shapely.contains_xy(self.shape, point.lon, point.lat))
        )

    def check(self, point: Point, field: str) -> None:
        """A 422 naming ``field`` if ``point`` lies outside (the value is not echoed)."""
        if not self.contains(point):
            raise field_problem(field, self.refusal())

    def outline(self) -> BaseGeometry:
        """Where a point is accepted, as one geometry: the area within the box (a client
        draws it; ``contains`` is the check)."""
        box = shapely.box(self.west, self.south, self.east, self.north)
        return box if self.shape is None else shapely.intersection(self.shape, box)

    def refusal(self) -> str:
        near = "the territory and about 50 km around it, " if self.shape is not None else ""
        return (
            f"outside the service area ({near}longitude {self.west} to {self.east}, latitude "
            f"{self.south} to {self.north}); check that lat and lon are not swapped"
        )


@lru_cache(maxsize=4)
def load_area(path: Path) -> BaseGeometry:
    """The area in a GeoJSON file (a Feature, or a bare geometry), prepared for many tests;
    read once per path (the file never changes while a process runs)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    area = shape(document.get("geometry", document))
    shapely.prepare(area)
    return area
