"""What lies at a point of the loaded territory: the layers the engine clips and measures
against, asked directly (the engine itself never classifies single points)."""

from __future__ import annotations

from typing import Literal

import shapely

from alert_engine.territory import Territory

Surface = Literal["territory", "foreign_land", "sea"]


def surface_at(territory: Territory, lon: float, lat: float) -> Surface:
    point = shapely.Point(lon, lat)
    if shapely.intersects(territory.national, point):
        return "territory"
    if shapely.intersects(territory.foreign_land, point):
        return "foreign_land"
    return "sea"
