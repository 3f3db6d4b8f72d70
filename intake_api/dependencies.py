"""The intake routes' services, as FastAPI dependencies: each built on the endpoint's
transaction (``shared.transaction``), so a route is one call."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends

from intake_api.service import ReportService
from intake_api.service_area import DEFAULT_AREA_FILE, ServiceArea
from shared.settings import Settings
from shared.time_zones import time_zone
from shared.transaction import Transaction
from shared.web import Context, Now


async def report_service(session: Transaction, context: Context, now: Now) -> ReportService:
    return ReportService(
        session,
        context.sealer,
        now,
        default_ttl=timedelta(hours=context.settings.alert_ttl_hours),
        service_area=service_area_of(context.settings),
        sighting_horizon=timedelta(hours=context.settings.zone_sighting_horizon_hours),
        timezone=time_zone(context.settings.alert_timezone),
    )


Reports = Annotated[ReportService, Depends(report_service)]


def service_area_of(settings: Settings) -> ServiceArea:
    """The settings' box, and their area file or the shipped one (read once per file)."""
    area_file = Path(settings.service_area_file) if settings.service_area_file else None
    return ServiceArea.of(settings.service_area, area_file or DEFAULT_AREA_FILE)
