"""A case's trusted locations: what the zone grows from, as the alert's row stores them."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.alert_contract import Language, Point


class TrustedLocation(BaseModel):
    """Where and when the child was, by the report or by an accepted sighting.

    Stored as JSON in the alert's row: the model is its own schema, so a change here is a
    change of what is stored (rows already written must still load)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    point: Point
    at: AwareDatetime
    place: str | None = None
    heading_deg: float | None = None  # clockwise from north; or a destination, never both
    destination: Point | None = None
    sighting_id: str | None = None  # None: the report's last-seen point
    # ``place`` in each alert language, from the gazetteer.
    place_names: dict[Language, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _written_flat(cls, data: Any) -> Any:
        """Rows written before the point was nested hold ``lat``/``lon`` beside the other
        fields, and ``null`` for no place names."""
        if not isinstance(data, dict) or "point" in data:
            return data
        flat = dict(data)
        flat["point"] = {"lat": flat.pop("lat", None), "lon": flat.pop("lon", None)}
        if flat.get("place_names") is None:
            flat.pop("place_names", None)
        return flat
