"""What ``tifli reports reconcile`` does (its parser is in ``services.cli.data``): after a
database restore, the cases closed or erased since the backup are closed or erased again, as
the report events on the topic since then say.

Each act goes through the use case the API runs (``ReportService``), in a transaction of its
own as a request's: its outbox event, audit entry and the rest are those of the act done by
hand. Its actor is the command (``RECONCILE_ACTOR``), which the audit log shows.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_api.dependencies import report_service_of
from intake_api.lost_acts import LostActs, Redo, lost_acts, to_redo
from intake_api.models import Report
from intake_api.service import ReportService
from services.data_key import data_key
from services.topic_history import ReadStalled, UnknownTopic, records_since
from shared.auth import Principal
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.events import REPORTS, Event, parse_event
from shared.problems import Problem
from shared.sealing import Sealer
from shared.settings import Settings

# The audit log's actor for the acts this command re-applies: neither a key nor ``cli`` (an
# operator's own act), so that the log says these were done again after a restore.
RECONCILE_ACTOR = "reconcile"
# National, so it reaches every unit's case; a reviewer's scopes, so that it may cancel an
# alert that went out and reject a report, as the acts it re-applies did.
_PRINCIPAL = Principal(
    key_id=RECONCILE_ACTOR,
    name="tifli reports reconcile",
    scopes=frozenset({"reports:submit", "reports:review"}),
)
# The note a closing keeps: the one given then is lost with what the restore undid (a
# restricted note, it never travels in an event).
_REASON = "re-applied after a database restore"
_DONE = {"resolve": "resolved", "cancel": "cancelled", "reject": "rejected", "erase": "erased"}


async def reconcile(settings: Settings, since: datetime) -> int:
    topic = f"{settings.topic_prefix}.{REPORTS}"
    if not settings.kafka_bootstrap_servers:
        print(
            "tifli: reports reconcile reads the acts since the backup from the Kafka topic "
            f"{topic} (TIFLI_KAFKA_BOOTSTRAP_SERVERS): the embedded mode keeps its events in "
            "its database only, which the restore took back to the backup. Resolve, cancel "
            "and erase again by hand the cases closed or erased since then",
            file=sys.stderr,
        )
        return 2
    try:
        history = await records_since(settings.kafka_bootstrap_servers, topic, since)
    except UnknownTopic:
        print(
            f"tifli: the broker has no topic {topic}: is TIFLI_TOPIC_PREFIX this deployment's?",
            file=sys.stderr,
        )
        return 2
    except KafkaError as exc:
        print(
            f"tifli: the broker {settings.kafka_bootstrap_servers} does not answer "
            f"({type(exc).__name__}); try again once it is up",
            file=sys.stderr,
        )
        return 3
    except ReadStalled as stalled:
        # The acts are done only once the whole topic has been read: none was.
        print(
            f"tifli: the broker {settings.kafka_bootstrap_servers} stopped answering while "
            f"{topic} was read ({stalled}): nothing was done; try again once it is up",
            file=sys.stderr,
        )
        return 3
    cases = lost_acts(_events(history.values))
    moment = f"{since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    engine = create_engine(settings.database_url)
    try:
        tally = await _reapply(settings, session_factory(engine), cases)
    finally:
        await engine.dispose()
    print(
        f"{len(cases)} case{'' if len(cases) == 1 else 's'} closed or erased since {moment}: "
        f"{tally.acted} acted on, {tally.already} already so in "
        f"the database, {tally.missing} not in it"
        + (f", {tally.failed} failed" if tally.failed else "")
    )
    for partition in history.trimmed:
        print(
            f"tifli: partition {partition} of {topic} keeps no event from before {moment}: "
            "Kafka deleted older ones (its retention), and some from after the backup may be "
            "among them: their cases were not looked at",
            file=sys.stderr,
        )
    return 1 if tally.failed or history.trimmed else 0


def _events(values: Iterable[bytes]) -> Iterable[Event]:
    for value in values:
        try:
            yield parse_event(value)
        except ValidationError:  # not an event (a poison message): nothing to re-apply from it
            continue


@dataclass
class _Tally:
    acted: int = 0  # cases that had an act done again
    already: int = 0  # as the events left them
    missing: int = 0  # filed after the backup
    failed: int = 0  # an act refused


async def _reapply(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    cases: dict[str, LostActs],
) -> _Tally:
    sealer = Sealer(data_key(settings))
    tally = _Tally()
    for report_id, lost in cases.items():
        done: list[Redo] = []
        refused: Problem | None = None
        try:
            # Each act changes what the next look finds, until the case lacks none (two at
            # most: its closing, then its erasure).
            while (act := await _next_act(settings, sessions, sealer, report_id, lost)) is not None:
                done.append(act)
        except Problem as problem:
            if problem.status == 404 and not done:
                # Filed after the backup: the restore has no case to close or erase.
                print(f"{report_id} not in the database (filed after the backup): nothing to do")
                tally.missing += 1
                continue
            refused = problem
        if done:
            print(f"{report_id} {', '.join(_DONE[act] for act in done)}")
        if refused is not None:
            print(f"tifli: {report_id}: {refused.detail or refused.title}", file=sys.stderr)
            tally.failed += 1
        elif done:
            tally.acted += 1
        else:
            tally.already += 1
    return tally


async def _next_act(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    sealer: Sealer,
    report_id: str,
    lost: LostActs,
) -> Redo | None:
    """The first act the case still lacks, done in a transaction of its own (as a request's)
    that holds the case's row from the look on: an act an officer makes on it meanwhile waits,
    or is seen. None when it lacks none."""
    async with sessions() as session, session.begin():
        await session.execute(select(Report.id).where(Report.id == report_id).with_for_update())
        service = _service(settings, session, sealer)
        case = await service.get(_PRINCIPAL, report_id)
        redo = to_redo(lost, case.status, case.erased_at is not None)
        if not redo:
            return None
        await _apply(service, redo[0], report_id)
        return redo[0]


def _service(settings: Settings, session: AsyncSession, sealer: Sealer) -> ReportService:
    return report_service_of(session, settings, sealer, SystemClock().now())


async def _apply(service: ReportService, act: Redo, report_id: str) -> None:
    if act == "resolve":
        await service.resolve(_PRINCIPAL, report_id, _REASON)
    elif act == "cancel":
        await service.cancel(_PRINCIPAL, report_id, _REASON)
    elif act == "reject":
        await service.reject(_PRINCIPAL, report_id, _REASON)
    else:
        await service.erase(_PRINCIPAL, report_id)
