"""A zone is drawn in a thread of its own: while it is drawn, the event loop that the engine's
other handlers (and, in the embedded mode, the API) share goes on answering; and zones drawn
from several threads at once come out as drawn one at a time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from alert_engine import composer as composer_module
from alert_engine import service as service_module
from alert_engine.composer import area_of, clipped_zone, prepare_zone
from alert_engine.consumer import ReportEventHandler
from services.components import engine_config
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import FakeClock, Stack, embedded_settings, start_stack
from shared.bus.base import Message
from shared.clock import SystemClock
from shared.outbox import OutboxEvent
from tests.flows import engine_processed
from tests.own_process import run_module
from tests.waiting import eventually

MARRAKECH = {"lat": 31.6295, "lon": -7.9811}
# Only ever waited for in full when the drawing holds the loop (the test then fails).
_ANSWER_WITHIN_S = 10.0


async def _nothing() -> None:
    return None


def _checking_the_loop(
    real: Callable[..., Any],
    loop: asyncio.AbstractEventLoop,
    answered: list[bool],
    meanwhile: Callable[[], Coroutine[Any, Any, None]] = _nothing,
) -> Callable[..., Any]:
    """``real``, which first asks the loop to run ``meanwhile`` and waits for it: on the
    loop's own thread that wait blocks the very loop that would answer, and times out (as it
    does where ``meanwhile`` waits for something the caller of ``real`` holds)."""

    def drawing(*args: Any, **kwargs: Any) -> Any:
        asked = asyncio.run_coroutine_threadsafe(meanwhile(), loop)
        try:
            asked.result(timeout=_ANSWER_WITHIN_S)
        except TimeoutError:
            asked.cancel()
            answered.append(False)
        else:
            answered.append(True)
        return real(*args, **kwargs)

    return drawing


async def _calls(made: list[bool]) -> list[bool]:
    return made


async def test_the_loop_answers_while_zones_are_drawn(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    in_advance: list[bool] = []  # drawn while the report awaits review
    on_approval: list[bool] = []  # the alert's area, from the zone drawn in advance
    monkeypatch.setattr(
        service_module,
        "prepare_zone",
        _checking_the_loop(prepare_zone, loop, in_advance),
    )
    monkeypatch.setattr(service_module, "area_of", _checking_the_loop(area_of, loop, on_approval))
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=report_body())
        assert created.status_code == 201, created.text
        await eventually(lambda: _calls(in_advance), bool)
        approved = await reviewer.post(f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    await _issued(stack, approved.json()["alert_id"])
    assert in_advance == [True] and on_approval == [True]


async def test_an_approval_holds_no_transaction_while_its_zone_is_drawn(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last seen four hours ago: the zone has grown past the floor, so it was not drawn while
    the report awaited review, and the approval draws it. Meanwhile another writer gets the
    database (in the embedded mode, SQLite's one writer, which every API request with a key
    waits for): the approval's transaction is not open yet."""
    wrote = _drawing_beside_a_write(stack, monkeypatch)
    body = report_body()
    body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(hours=4)).isoformat()
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        approved = await reviewer.post(f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    await _issued(stack, approved.json()["alert_id"])
    assert wrote == [True]


async def test_a_sighting_holds_no_transaction_while_its_zone_is_drawn(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child seen in Marrakech: the Update's zone is drawn before its transaction, while
    another writer gets the database."""
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        report_id, alert_id = await _approved_hours_after(police, reviewer, 0.5)
        await _issued(stack, alert_id)
        wrote = _drawing_beside_a_write(stack, monkeypatch)
        seen = {"location": MARRAKECH, "at": datetime.now(UTC).isoformat(), "trusted": True}
        sighted = await police.post(f"/v1/reports/{report_id}/sightings", json=seen)
        assert sighted.status_code == 201, sighted.text
    await _issued(stack, alert_id, sequence=2)
    assert wrote == [True]


async def test_a_widening_holds_no_transaction_while_its_zone_is_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three hours on by car, the zone has grown enough for an Update: drawn before the
    timer's transaction, while another writer gets the database."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    # The test runs the timers itself.
    stack, server = await start_stack(embedded_settings(tmp_path), clock, timer_loop=False)
    try:
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            _, alert_id = await _approved_hours_after(police, reviewer, 0.5, "vehicle")
        await _issued(stack, alert_id)
        wrote = _drawing_beside_a_write(stack, monkeypatch)
        clock.advance(timedelta(hours=3))
        assert stack.embedded.timers is not None
        assert await stack.embedded.timers.run_due() == 1
        await _issued(stack, alert_id, sequence=2)
        assert wrote == [True]
    finally:
        await server.__aexit__(None, None, None)


async def test_a_renewal_holds_no_transaction_while_its_zone_is_drawn(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renewed four hours after the child was last seen: the Update shows the zone of now,
    drawn before its transaction."""
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        report_id, alert_id = await _approved_hours_after(police, reviewer, 4)
        await _issued(stack, alert_id)
        wrote = _drawing_beside_a_write(stack, monkeypatch)
        renewed = await reviewer.post(f"/v1/reports/{report_id}/renew", json={"ttl_hours": 100})
        assert renewed.status_code == 200, renewed.text
    await _issued(stack, alert_id, sequence=2)
    assert wrote == [True]


async def test_changes_that_send_no_update_draw_no_zone(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sighting inside the zone already, and a correction of what partners are not shown:
    no Update, so no zone is drawn for one (each would take the drawing thread, which the
    case's resolution, say, may wait behind)."""
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        # Last seen half an hour ago, its radius still the floor: seen at the same place
        # five minutes before, the child adds no ground.
        sighted_case, sighted_alert = await _approved_hours_after(police, reviewer, 0.5)
        # Last seen four hours ago: the zone of now is not the one drawn at submission.
        corrected_case, corrected_alert = await _approved_hours_after(police, reviewer, 4)
        for alert_id in (sighted_alert, corrected_alert):
            await _issued(stack, alert_id)
        last_seen = (await police.get(f"/v1/reports/{sighted_case}")).json()["report"]["last_seen"]
        drawn = _drawing_beside_a_write(stack, monkeypatch)
        before = await engine_processed(stack)
        earlier = datetime.fromisoformat(last_seen["at"]) - timedelta(minutes=5)
        seen = {"location": last_seen["location"], "at": earlier.isoformat(), "trusted": True}
        sighted = await police.post(f"/v1/reports/{sighted_case}/sightings", json=seen)
        assert sighted.status_code == 201, sighted.text
        unseen = {"circumstances": "Left school at 16:45, alone."}
        corrected = await reviewer.patch(f"/v1/reports/{corrected_case}", json=unseen)
        assert corrected.status_code == 200, corrected.text
        await eventually(lambda: engine_processed(stack), lambda n: n == before + 2)
    assert drawn == []
    async with stack.client("reader") as reader:
        for alert_id in (sighted_alert, corrected_alert):
            assert (await reader.get(f"/v1/alerts/{alert_id}")).json()["sequence"] == 1


async def test_an_approval_sent_again_is_dropped_even_if_its_zone_cannot_be_computed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawing ahead fails before the handler learns the approval was handled already (a
    fault computing the zone's pieces): the handler must still drop it as a duplicate, not
    fail it, which would park it on the dead-letter topic for good."""
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        report_id, alert_id = await _approved_hours_after(police, reviewer, 4)
        await _issued(stack, alert_id)
    async with stack.embedded.sessions() as session:
        approval = (
            await session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.key == report_id, OutboxEvent.event_type == "report.approved"
                )
            )
        ).one()

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the pieces cannot be computed")

    monkeypatch.setattr(service_module, "pieces_at", failing)
    assert stack.settings is not None  # the embedded stack: its engine runs here
    config = engine_config(stack.settings)
    handler = ReportEventHandler(stack.embedded.sessions, config, SystemClock())
    again = Message(topic=approval.topic, key=approval.key, value=approval.payload.encode())
    await handler(again)  # handled already: dropped, as before the zones were drawn ahead


async def _approved_hours_after(
    police: httpx.AsyncClient,
    reviewer: httpx.AsyncClient,
    hours: float,
    travel_mode: str | None = None,
) -> tuple[str, str]:
    """A case last seen ``hours`` ago (by the wall clock; the example's way of travel unless
    another is given), approved: (the case's id, its alert's). Hours past the floor's time,
    its zone of now was not drawn at submission."""
    body = report_body() if travel_mode is None else report_body(travel_mode=travel_mode)
    body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
    created = await police.post("/v1/reports", json=body)
    assert created.status_code == 201, created.text
    approved = await reviewer.post(f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA)
    assert approved.status_code == 200, approved.text
    return created.json()["id"], approved.json()["alert_id"]


def _drawing_beside_a_write(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """From now on, each zone drawing first waits for another transaction to take the
    database's write lock: whether it could, one entry per drawing."""
    wrote: list[bool] = []
    drawing = _checking_the_loop(
        clipped_zone, asyncio.get_running_loop(), wrote, lambda: _a_write(stack)
    )
    monkeypatch.setattr(composer_module, "clipped_zone", drawing)
    monkeypatch.setattr(service_module, "clipped_zone", drawing)
    return wrote


async def _issued(stack: Stack, alert_id: str, sequence: int = 1) -> None:
    """Waits until the alert can be read at ``sequence``: issued (1), or updated since."""
    async with stack.client("reader") as reader:

        async def shown() -> httpx.Response:
            return await reader.get(f"/v1/alerts/{alert_id}")

        await eventually(shown, lambda r: r.status_code == 200 and r.json()["sequence"] == sequence)


async def _a_write(stack: Stack) -> None:
    """A transaction of its own that takes the database's write lock (``BEGIN IMMEDIATE``)."""
    async with stack.embedded.sessions() as session, session.begin():
        await session.execute(text("SELECT 1"))


def test_zones_drawn_from_several_threads_at_once_are_drawn_as_one_at_a_time() -> None:
    ran = run_module("tests.alert_engine.drawing_in_threads")
    # A crash (a negative code: the signal) is what two unlocked drawings at once can do.
    assert ran.returncode == 0, (ran.returncode, ran.stderr[-3000:])
    assert json.loads(ran.stdout) == {"drawn": 54, "differ": 0}
