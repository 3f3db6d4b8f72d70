"""The drill behind ``tifli demo``: the embedded mode in this process on a temporary SQLite
database, a partner simulator on loopback, and one Exercise case taken from report to
take-down through the public API, each step timed and shown as it happens."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from intake_api import keys
from services.api import create_app
from services.cli.zone import write_picture
from services.components import ALL_ROLES, build_components, territory
from services.database import upgrade
from services.demo.partner_simulator import PartnerSimulator, Received
from services.testbed.loopback import bound_socket, serve
from services.testbed.sample_report import CRITERIA
from shared.alert_contract import Area
from shared.auth import add_unit
from shared.settings import Settings

UNIT = "DEMO-TETOUAN"
# Where the drill's child was last seen, then sighted: Arabic names the gazetteer knows.
LAST_SEEN_PLACE = "تطوان"  # Tétouan
SIGHTING_PLACE = "طنجة"  # Tangier


class DrillFailed(Exception):
    pass


@dataclass
class Transcript:
    """Progress lines, printed as they come, and the timings for the summary."""

    say: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)
    timings: list[tuple[str, float]] = field(default_factory=list)

    def step(self, text: str) -> None:
        self.say(f"[{time.monotonic() - self.started:6.2f} s] {text}")

    def detail(self, text: str) -> None:
        self.say(f"{'':11}{text}")

    def timing(self, name: str, seconds: float) -> None:
        self.timings.append((name, seconds))


def report_body(last_seen_at: datetime) -> dict[str, Any]:
    """A fictional child, marked Exercise: the alert says it is a drill everywhere."""
    return {
        "child": {
            "given_name": "Salma",
            "family_name": "Drill",
            "age": 8,
            "sex": "female",
            "description": "Exercise only: long brown hair, green eyes, about 125 cm",
            "clothing": "Yellow raincoat, grey trousers, red boots",
            "photo_urls": ["https://photos.example.org/drill.jpg"],
        },
        "last_seen": {"place_name": LAST_SEEN_PLACE, "at": last_seen_at.isoformat()},
        "circumstances": "Exercise: did not come home from the market; a neighbour saw a van.",
        "travel_mode": "vehicle",
        "guardian": {
            "name": "Exercise Guardian",
            "phone": "+212 600 000 001",
            "relationship": "mother",
            "consent_to_publication": True,
        },
        "submitted_by": {"officer": "Exercise Officer"},
        "message_status": "Exercise",
    }


def drill_settings(folder: Path, port: int) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'tifli-demo.db'}",
        kafka_bootstrap_servers=None,
        host="127.0.0.1",
        port=port,
        public_base_url=None,
        # The simulated partner listens on loopback over plain HTTP.
        webhook_allow_private=True,
        log_level="WARNING",
    )


async def _keys(settings: Settings, sessions: Any) -> dict[str, str]:
    now = datetime.now(UTC)
    personas = {
        "police": (UNIT, ["reports:submit", "reports:read"]),
        "review": (None, ["reports:review", "reports:read"]),
        "operator": (None, ["partners:admin", "deliveries:read", "alerts:read"]),
    }
    created = {}
    async with sessions() as session, session.begin():
        await add_unit(session, UNIT, "Exercise unit, Tétouan", now)
        for name, (unit, scopes) in personas.items():
            made = await keys.create(
                session,
                keys.CLI_ACTOR,
                now,
                name=f"demo-{name}",
                scopes=scopes,
                unit=unit,
                expires_in=timedelta(hours=1),
            )
            created[name] = made.key
    return created


def _check(response: httpx.Response, expected: int, doing: str) -> dict[str, Any]:
    if response.status_code != expected:
        raise DrillFailed(f"{doing}: HTTP {response.status_code}: {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def _received(transcript: Transcript, got: Received, since: float, name: str) -> None:
    alert = got.payload["alert"]
    latency = got.arrived_monotonic - since
    transcript.timing(name, latency)
    transcript.detail(
        f"partner received {got.event_type} (sequence {alert['sequence']}, "
        f"status {alert['status']}) {latency * 1000:.0f} ms later"
    )
    transcript.detail(
        "signature verified with the README's recipe: "
        f"webhook-signature {'ok' if got.standard_signature_ok else 'WRONG'}, "
        f"X-Hub-Signature-256 {'ok' if got.meta_signature_ok else 'WRONG'}"
    )
    if not got.verified:
        raise DrillFailed(f"the {got.event_type} webhook's signature did not verify")


@asynccontextmanager
async def _clients(base: str, keys_: dict[str, str]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        name: httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        for name, key in keys_.items()
    }
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


async def run_drill(svg_path: Path, say: Callable[[str], None]) -> list[tuple[str, float]]:
    """Runs the whole drill; returns the timings. DrillFailed says which step went wrong."""
    transcript = Transcript(say)
    with tempfile.TemporaryDirectory(prefix="tifli-demo-") as folder:
        api_socket = bound_socket()
        settings = drill_settings(Path(folder), api_socket.getsockname()[1])
        transcript.step("creating a temporary SQLite database and its schema …")
        began = time.monotonic()
        await asyncio.to_thread(upgrade, settings.database_url)
        transcript.step("loading the zone data and starting the embedded mode …")
        components = build_components(settings, ALL_ROLES)
        keys_ = await _keys(settings, components.sessions)
        simulator = PartnerSimulator(verify_token="demo-partner-token")
        async with (
            serve(create_app(components), api_socket, settings.http_keep_alive_s) as base,
            serve(simulator.app(), bound_socket()) as partner_base,
            _clients(base, keys_) as client,
        ):
            transcript.timing("start-up", time.monotonic() - began)
            transcript.detail(f"Tifli API on {base} (docs: {base}/docs)")
            transcript.detail(f"unit {UNIT}; keys: police (the unit), review, operator")
            await _case(
                transcript, client, simulator, f"{partner_base}/webhook", svg_path, settings
            )
    return transcript.timings


async def _case(
    transcript: Transcript,
    client: dict[str, httpx.AsyncClient],
    simulator: PartnerSimulator,
    partner_url: str,
    svg_path: Path,
    settings: Settings,
) -> None:
    transcript.step(f"registering the partner simulator at {partner_url} (Meta's handshake) …")
    partner = _check(
        await client["operator"].post(
            "/v1/partners",
            json={
                "name": "Partner simulator",
                "url": partner_url,
                "verify_token": simulator.verify_token,
            },
        ),
        201,
        "registering the partner",
    )
    if partner["status"] != "active":
        raise DrillFailed(f"the partner is {partner['status']}: {partner['status_reason']}")
    simulator.secret = partner["secret"]
    transcript.detail(f"partner {partner['id']} is active ({simulator.handshakes} handshake)")

    last_seen_at = datetime.now(UTC) - timedelta(minutes=20)
    transcript.step(f"police submit an Exercise report: last seen in {LAST_SEEN_PLACE} …")
    report = _check(
        await client["police"].post("/v1/reports", json=report_body(last_seen_at)),
        201,
        "submitting the report",
    )
    report_path = f"/v1/reports/{report['id']}"
    transcript.detail(f"report {report['id']} is {report['status']}")

    transcript.step("a reviewer (another key: four eyes) approves it …")
    approving = time.monotonic()
    approved = _check(
        await client["review"].post(f"{report_path}/approve", json=CRITERIA), 200, "approving"
    )
    transcript.detail(f"alert {approved['alert_id']}")
    issued = await _wait(simulator, "alert.issued")
    _received(transcript, issued, approving, "approval → signed alert at the partner")
    alert = issued.payload["alert"]
    area = Area.model_validate(alert["area"])
    arabic = next((i for i in alert["info"] if i["language"] == "ar"), None)
    if arabic is not None:
        transcript.detail(f"the partner shows (ar): {arabic['short_text']}")

    transcript.step(f"drawing the zone to {svg_path} …")
    from alert_engine.geodesy import geodesic_disk

    disk = geodesic_disk(area.circle.center, area.circle.radius_km * 1000).polygon
    write_picture(svg_path, area, disk, territory(settings))
    transcript.detail(
        f"radius {area.circle.radius_km:g} km, {area.vertex_count} vertices, targeting "
        f"{area.targeting}, geocodes {', '.join(area.geocodes[:4])}"
        + (" …" if len(area.geocodes) > 4 else "")
    )

    transcript.step(f"police add a trusted sighting in {SIGHTING_PLACE} …")
    sighting = {
        "place_name": SIGHTING_PLACE,
        "at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "description": "Exercise: seen at the bus station",
        "trusted": True,
    }
    sighting_sent = time.monotonic()
    _check(await client["police"].post(f"{report_path}/sightings", json=sighting), 201, "sighting")
    updated = await _wait(simulator, "alert.updated")
    _received(transcript, updated, sighting_sent, "trusted sighting → Update at the partner")

    transcript.step("the child is found: police resolve the case …")
    resolving = time.monotonic()
    _check(await client["police"].post(f"{report_path}/resolve", json={}), 200, "resolving")
    cancelled = await _wait(simulator, "alert.cancelled")
    _received(transcript, cancelled, resolving, "resolve → Cancel at the partner")
    if cancelled.payload["alert"].get("child") is not None:
        raise DrillFailed("the Cancel carried child data")
    transcript.detail("the Cancel carries no child data")
    transcript.step("stopping (the dispatcher finishes what is in hand) …")


async def _wait(simulator: PartnerSimulator, event_type: str) -> Received:
    try:
        return await simulator.wait_for(event_type)
    except TimeoutError:
        raise DrillFailed(f"the partner received no {event_type} within a minute") from None
