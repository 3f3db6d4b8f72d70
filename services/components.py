"""Wiring: builds what a process runs from its settings and its roles. The only place where
services meet — they never import one another; they share the bus and the database."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from alert_engine.cap_signature import CapSigner
from alert_engine.composer import Presentation
from alert_engine.consumer import GROUP as ENGINE_GROUP
from alert_engine.consumer import ReportEventHandler
from alert_engine.footprint import load_compiled
from alert_engine.prepared_zones import PreparedZones
from alert_engine.retention import (
    prune_closed_reports,
    prune_early_changes,
    prune_early_renewals,
)
from alert_engine.service import EngineConfig
from alert_engine.territory import Territory, default_paths, load_territory
from alert_engine.timers import AlertTimers
from alert_engine.zone_policy import ZonePolicy
from dispatcher.address_guard import guarded_client
from dispatcher.consumer import GROUP as DISPATCHER_GROUP
from dispatcher.consumer import AlertEventHandler
from dispatcher.retention import prune_attempts, prune_known_alerts
from dispatcher.retry import RetryPolicy
from dispatcher.worker import DeliveryWorker, WorkerConfig
from intake_api.idempotency_records import PRUNE_BATCH, prune_idempotency_records
from intake_api.retention import RetentionTimer
from services.cap_keys import cap_signer
from services.data_key import data_key
from services.health import BrokerCheck, Readiness
from shared.bus import EventBus
from shared.bus.memory import InProcessBus
from shared.clock import Clock, SystemClock
from shared.db import create_engine, session_factory
from shared.events import ALERTS, DEAD_LETTER, REPORTS
from shared.housekeeping import Housekeeper, Prune
from shared.inbox import processed_pruner
from shared.outbox import prune_published
from shared.relay import OutboxRelay
from shared.relay_leadership import PostgresLeadership
from shared.sealing import Sealer
from shared.settings import Settings
from shared.supervision import Supervisor
from shared.unfinished_events import Consumers

Role = Literal["intake-api", "relay", "alert-engine", "dispatcher"]
ALL_ROLES: tuple[Role, ...] = ("intake-api", "relay", "alert-engine", "dispatcher")
log = logging.getLogger(__name__)
# The timer loop's task: found again to end it alone (``Components.end_timer_loop``).
_TIMER_LOOP = "alert-timers"
# How long a stop waits for the relay's pass in hand. The broker acknowledges a run of events
# within milliseconds; with the broker away its acknowledgements come only once it is back
# (the producer retries until then), and a stop that waited for them outlasted a supervisor's
# grace period. A pass cut short rolls back: its events stay in the outbox for the next relay,
# and consumers drop any the broker took meanwhile.
RELAY_DRAIN_S = 10.0

# Which consumer groups read each topic: what an event must be finished by.
CONSUMERS: Consumers = {REPORTS: (ENGINE_GROUP,), ALERTS: (DISPATCHER_GROUP,)}


def zone_policy(settings: Settings) -> ZonePolicy:
    return ZonePolicy(
        floor_km=settings.zone_floor_km,
        cap_km=settings.zone_cap_km,
        speeds_kmh={
            "foot": settings.speed_foot_kmh,
            "vehicle": settings.speed_vehicle_kmh,
            "public_transport": settings.speed_public_transport_kmh,
            "unknown": settings.speed_unknown_kmh or settings.speed_vehicle_kmh,
        },
        vertex_budget=settings.zone_vertex_budget,
        max_polygons=settings.zone_max_polygons,
        territory=territory(settings),
        sighting_horizon=timedelta(hours=settings.zone_sighting_horizon_hours),
        bias_side_fraction=settings.zone_bias_side_fraction,
    )


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        policy=zone_policy(settings),
        presentation=Presentation(
            sender=settings.alert_sender,
            timezone=settings.alert_timezone,
            take_down_valid=timedelta(hours=settings.cancel_retry_hours),
        ),
        ttl=timedelta(hours=settings.alert_ttl_hours),
        widen_interval=timedelta(minutes=settings.widen_interval_minutes),
        widen_min_growth=settings.widen_min_growth,
        prepared=PreparedZones(settings.zone_prepared_max) if settings.zone_prepared_max else None,
        updates_drawn_ahead=settings.is_sqlite,
    )


def map_territory(settings: Settings) -> Territory:
    """The boundaries the settings name, loaded once: what maps draw, even when zones are not
    clipped to them."""
    if settings.territory_regions_file:
        # Another country's files: provinces and foreign land only if given too.
        return load_territory(
            Path(settings.territory_regions_file),
            Path(p) if (p := settings.territory_provinces_file) else None,
            Path(p) if (p := settings.territory_foreign_land_file) else None,
            Path(p) if (p := settings.territory_allowed_areas_file) else None,
        )
    return load_territory(*default_paths())


def territory(settings: Settings) -> Territory | None:
    if not settings.zone_clip_to_territory:
        return None
    loaded = map_territory(settings)
    # The territory's indexes (~0.3 s) and the zone's compiled steps now, at start-up.
    loaded.build_indexes()
    load_compiled()
    return loaded


def housekeeping(settings: Settings, roles: tuple[Role, ...]) -> list[Prune]:
    """What each role prunes: the tables it owns."""
    events = timedelta(days=settings.event_retention_days)
    # What the consumers remember of the events they handled (which ones, which cases closed,
    # which alerts came down) outlives the outbox's copies by a day: the roles prune in
    # different processes, and an event sent again must always find it.
    remembered = events + timedelta(days=1)
    prunes = []
    if "intake-api" in roles:
        prunes.append(
            Prune(
                "idempotency_records",
                prune_idempotency_records,
                timedelta(hours=settings.idempotency_key_hours),
                batch=PRUNE_BATCH,
            )
        )
    if "relay" in roles:
        prunes.append(Prune("outbox", prune_published, events))
    if "alert-engine" in roles:
        prunes.append(
            Prune(f"processed_events:{ENGINE_GROUP}", processed_pruner(ENGINE_GROUP), remembered)
        )
        prunes.append(Prune("closed_reports", prune_closed_reports, remembered))
        prunes.append(Prune("early_renewals", prune_early_renewals, remembered))
        prunes.append(Prune("early_changes", prune_early_changes, remembered))
    if "dispatcher" in roles:
        prunes.append(
            Prune(
                f"processed_events:{DISPATCHER_GROUP}",
                processed_pruner(DISPATCHER_GROUP),
                remembered,
            )
        )
        attempts = timedelta(days=settings.attempt_retention_days)
        prunes.append(Prune("delivery_attempts", prune_attempts, attempts))
        prunes.append(Prune("known_alerts", prune_known_alerts, remembered))
    return prunes


async def _finish_or_cut(task: asyncio.Task[None], seconds: float) -> None:
    """Waits for ``task`` to end by itself, and cancels it once ``seconds`` have passed."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.warning("a stop cut short a pass in hand", extra={"task": task.get_name()})
        task.cancel()
    with suppress(asyncio.CancelledError):
        await task


def bus_topics(settings: Settings) -> list[str]:
    """Every topic the services use, the dead-letter topic included."""
    return [f"{settings.topic_prefix}.{t}" for t in (REPORTS, ALERTS, DEAD_LETTER)]


def build_bus(settings: Settings, supervisor: Supervisor) -> EventBus:
    dead_letter = f"{settings.topic_prefix}.{DEAD_LETTER}"
    if settings.kafka_bootstrap_servers:
        from shared.bus.kafka import KafkaBus

        return KafkaBus(
            settings.kafka_bootstrap_servers,
            partitions=settings.bus_partitions,
            max_attempts=settings.bus_max_attempts,
            dead_letter_topic=dead_letter,
            topics=[f"{settings.topic_prefix}.{t}" for t in (REPORTS, ALERTS)],
            replication_factor=settings.kafka_replication_factor,
            min_insync_replicas=settings.kafka_min_insync_replicas,
            supervisor=supervisor,
        )
    return InProcessBus(
        partitions=settings.bus_partitions,
        max_attempts=settings.bus_max_attempts,
        dead_letter_topic=dead_letter,
        supervisor=supervisor,
    )


@dataclass
class Components:
    settings: Settings
    roles: tuple[Role, ...]
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: EventBus | None  # the API process needs none: it writes to the outbox
    webhook_client: httpx.AsyncClient
    sealer: Sealer
    supervisor: Supervisor
    # The API process serves CAP; None there: unsigned, by the operator's choice.
    cap_signer: CapSigner | None = None
    relay: OutboxRelay | None = None
    worker: DeliveryWorker | None = None
    timers: AlertTimers | None = None
    housekeeper: Housekeeper | None = None
    retention: RetentionTimer | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _relay_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.bus is not None:
            await self.bus.start()
        if self.relay is not None and isinstance(self.bus, InProcessBus):
            await self.relay.requeue_unconsumed(
                CONSUMERS, timedelta(days=self.settings.event_retention_days)
            )
        if self.relay is not None:
            self._relay_task = asyncio.create_task(
                self.relay.run(self.supervisor), name="outbox-relay"
            )
        if self.worker is not None:
            self._tasks.append(
                asyncio.create_task(self.worker.run(self.supervisor), name="delivery-worker")
            )
        if self.timers is not None:
            self._tasks.append(
                asyncio.create_task(self.timers.run(self.supervisor), name=_TIMER_LOOP)
            )
        if self.housekeeper is not None:
            self._tasks.append(
                asyncio.create_task(self.housekeeper.run(self.supervisor), name="housekeeping")
            )
        if self.retention is not None:
            self._tasks.append(
                asyncio.create_task(self.retention.run(self.supervisor), name="retention")
            )

    async def end_timer_loop(self) -> None:
        """Ends the timer loop once its pass in hand is over: from then on the timers run only
        when called (``timers.run_due``), as a test on a simulated clock drives them. A pass
        of the loop's own would race such a call: its nap, measured on that clock, ends as
        soon as the clock is moved past a due time."""
        if self.timers is None:
            return
        self.timers.stop()
        for task in self._tasks:
            if task.get_name() == _TIMER_LOOP:
                with suppress(asyncio.CancelledError):
                    await task

    async def stop(self) -> None:
        """Drain, in the order work flows: stop publishing, stop taking events (handlers in
        flight finish and commit), then let the loops finish — the delivery worker waits for
        every POST in flight, including those the last handlers started, and records it."""
        if self.relay is not None:
            self.relay.stop()
        if self._relay_task is not None:
            await _finish_or_cut(self._relay_task, RELAY_DRAIN_S)
            self._relay_task = None
        if self.bus is not None:
            await self.bus.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.timers is not None:
            self.timers.stop()
        if self.housekeeper is not None:
            self.housekeeper.stop()
        if self.retention is not None:
            self.retention.stop()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.webhook_client.aclose()
        await self.engine.dispose()

    def readiness(self) -> Readiness:
        broker: BrokerCheck | None = None
        bootstrap = self.settings.kafka_bootstrap_servers
        if bootstrap and not isinstance(self.bus, InProcessBus):
            # aiokafka only where Kafka is used
            from shared.bus.bootstrap_hosts import BrokerState
            from shared.bus.kafka import broker_reachable

            async def broker_answers() -> bool:
                if self.bus is not None:
                    return await self.bus.reachable()
                return await broker_reachable(bootstrap)

            broker = BrokerState(bootstrap, broker_answers)
        # The intake API takes reports through a broker outage (the outbox holds them): it
        # shows the broker's state but does not depend on it.
        return Readiness(self.engine, self.supervisor, broker, broker_required=self.bus is not None)

    def wake_dispatcher(self) -> None:
        if self.worker is not None:
            self.worker.wake()


def build_components(
    settings: Settings, roles: tuple[Role, ...], clock: Clock | None = None
) -> Components:
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    supervisor = Supervisor(stale_after_s=settings.loop_stale_after_s)
    bus = build_bus(settings, supervisor) if set(roles) - {"intake-api"} else None
    components = Components(
        settings=settings,
        roles=roles,
        clock=clock,
        engine=engine,
        sessions=sessions,
        bus=bus,
        webhook_client=guarded_client(
            timeout_s=settings.webhook_timeout_s, allow_private=settings.webhook_allow_private
        ),
        # Intake seals report fields, the dispatcher partner secrets: every role needs the key.
        sealer=Sealer(data_key(settings)),
        supervisor=supervisor,
        cap_signer=cap_signer(settings) if "intake-api" in roles else None,
    )
    if "intake-api" in roles:
        components.retention = RetentionTimer(
            sessions,
            clock,
            keep=timedelta(days=settings.retention_days),
            interval_s=settings.retention_interval_minutes * 60,
        )
    # Every role prunes what it owns, the API process (which has no bus) included.
    components.housekeeper = Housekeeper(
        sessions,
        clock,
        housekeeping(settings, roles),
        interval_s=settings.housekeeping_interval_minutes * 60,
    )
    if bus is None:
        return components
    if "relay" in roles:
        leadership = None
        if not settings.is_sqlite:
            leadership = PostgresLeadership(settings.database_url, on_notify=lambda: relay.wake())
        relay = OutboxRelay(
            sessions,
            bus,
            clock,
            topic_prefix=settings.topic_prefix,
            poll_interval_s=settings.outbox_poll_interval_s,
            leadership=leadership,
        )
        relay.wake_on_commit()  # writers in this same process wake it directly
        components.relay = relay
    if "alert-engine" in roles:
        config = engine_config(settings)
        components.timers = AlertTimers(
            sessions, config, clock, poll_interval_s=settings.timer_poll_interval_s
        )
        bus.subscribe(
            f"{settings.topic_prefix}.{REPORTS}",
            f"{settings.topic_prefix}.{ENGINE_GROUP}",  # one deployment, one group
            ReportEventHandler(sessions, config, clock),
        )
    if "dispatcher" in roles:
        components.worker = DeliveryWorker(
            sessions,
            components.webhook_client,
            WorkerConfig(
                retry=RetryPolicy(settings.webhook_retry_schedule_s, settings.webhook_retry_jitter),
                partner_concurrency=settings.partner_concurrency,
                poll_interval_s=settings.delivery_poll_interval_s,
                attempt_timeout_s=settings.webhook_timeout_s,
                lease=timedelta(
                    seconds=settings.delivery_lease_s or settings.webhook_timeout_s + 30
                ),
            ),
            clock,
            components.sealer,
        )
        bus.subscribe(
            f"{settings.topic_prefix}.{ALERTS}",
            f"{settings.topic_prefix}.{DISPATCHER_GROUP}",
            AlertEventHandler(
                sessions,
                clock,
                components.worker,
                cancel_retry=timedelta(hours=settings.cancel_retry_hours),
                public_base_url=settings.base_url,
            ),
        )
    return components
