"""The intake routes' services, as FastAPI dependencies: each built on the endpoint's
transaction (``shared.transaction``), so a route is one call."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from intake_api.service import ReportService
from intake_api.service_area import ServiceArea
from shared.transaction import Transaction
from shared.web import Context, Now


async def report_service(session: Transaction, context: Context, now: Now) -> ReportService:
    return ReportService(
        session,
        context.sealer,
        now,
        default_ttl=timedelta(hours=context.settings.alert_ttl_hours),
        service_area=ServiceArea.of(context.settings.service_area),
        sighting_horizon=timedelta(hours=context.settings.zone_sighting_horizon_hours),
    )


Reports = Annotated[ReportService, Depends(report_service)]
