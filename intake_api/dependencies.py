"""The intake routes' services, as FastAPI dependencies: each built on the endpoint's
transaction (``shared.transaction``), so a route is one call."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.service import ReportService
from intake_api.service_area import DEFAULT_AREA_FILE, ServiceArea
from shared.sealing import Sealer
from shared.settings import Settings
from shared.time_zones import time_zone
from shared.transaction import Transaction
from shared.web import Context, Now


async def report_service(session: Transaction, context: Context, now: Now) -> ReportService:
    return report_service_of(session, context.settings, context.sealer, now)


def report_service_of(
    session: AsyncSession, settings: Settings, sealer: Sealer, now: datetime
) -> ReportService:
    """The use cases on ``session`` under ``settings``: a request's, or a command's that acts
    on cases as the API does (``tifli reports reconcile``)."""
    return ReportService(
        session,
        sealer,
        now,
        default_ttl=timedelta(hours=settings.alert_ttl_hours),
        service_area=service_area_of(settings),
        sighting_horizon=timedelta(hours=settings.zone_sighting_horizon_hours),
        timezone=time_zone(settings.alert_timezone),
    )


Reports = Annotated[ReportService, Depends(report_service)]


def service_area_of(settings: Settings) -> ServiceArea:
    """The settings' box, and their area file or the shipped one (read once per file)."""
    area_file = Path(settings.service_area_file) if settings.service_area_file else None
    return ServiceArea.of(settings.service_area, area_file or DEFAULT_AREA_FILE)
