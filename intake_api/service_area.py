"""Where a case's points may lie: a box around the country the service alerts in.

Pure logic, no I/O. A point far outside it is a mistake, never a case: a latitude and a
longitude swapped, a default (0, 0) left in a form, a pole. Accepted, it would become an
alert around that point (or, where no zone can be drawn, an approval with no alert at all),
so it is refused at submission with the field named, where the officer can still fix it.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.alert_contract import Point
from shared.problems import field_problem


@dataclass(frozen=True)
class ServiceArea:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def of(cls, box: tuple[float, float, float, float]) -> ServiceArea:
        return cls(*box)

    def contains(self, point: Point) -> bool:
        return self.west <= point.lon <= self.east and self.south <= point.lat <= self.north

    def check(self, point: Point, field: str) -> None:
        """A 422 naming ``field`` if ``point`` lies outside (the value is not echoed)."""
        if not self.contains(point):
            raise field_problem(
                field,
                f"outside the service area (longitude {self.west} to {self.east}, latitude "
                f"{self.south} to {self.north}); check that lat and lon are not swapped",
            )
