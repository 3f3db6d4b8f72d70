"""Approval criteria, checked against the report and the reviewer's confirmations."""

from __future__ import annotations

from datetime import date

from intake_api.schemas import Criteria, ReportIn


def unmet_criteria(report: ReportIn, confirmations: Criteria, today: date) -> list[tuple[str, str]]:
    """Pure: (field, why) for every criterion that fails; empty means the report may be approved."""
    unmet: list[tuple[str, str]] = []
    for name, confirmed in confirmations.model_dump().items():
        if not confirmed:
            unmet.append((f"criteria.{name}", "the reviewer must confirm this criterion"))
    if report.child.age_years(today) >= 18:
        unmet.append(("criteria.child_under_18", "the child is 18 or older today"))
    if not report.child.photo_urls and len(report.child.description) < 20:
        unmet.append(
            (
                "criteria.enough_descriptive_information",
                "needs a photo or a description of at least 20 characters",
            )
        )
    if not report.guardian.consent_to_publication:
        unmet.append(("criteria.guardian_consent_recorded", "no guardian consent on record"))
    return unmet
