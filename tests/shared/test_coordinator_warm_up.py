"""A consumer's first start on a fresh cluster logs no ERROR (its group's coordinator is
"not available" while the broker creates its offsets topic), and a coordinator that stays
away is still an ERROR."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import GroupCoordinatorNotAvailableError, KafkaConnectionError

from services.testbed.backing_servers import kafka_broker
from shared.bus.base import Message
from shared.bus.coordinator_warm_up import COORDINATOR_LOGGER, WARM_UP_S, CoordinatorWarmUp
from shared.bus.kafka import KafkaBus
from tests.waiting import eventually


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[str]:
    """A broker no consumer group has used yet: the session's has made its offsets topic at
    the first test that consumed."""
    with kafka_broker(tmp_path / "kafka") as broker:
        yield broker.bootstrap


async def _ignore(message: Message) -> None:
    return None


@pytest.mark.kafka
async def test_a_first_start_logs_no_error(
    fresh_broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = KafkaBus(
        fresh_broker,
        partitions=1,
        max_attempts=1,
        dead_letter_topic="t.dead-letter",
        topics=["t.reports"],
    )
    bus.subscribe("t.reports", "t.first-group", _ignore)
    with caplog.at_level(logging.INFO):
        await bus.start()
        try:
            # Assigned a partition: the group's coordinator was found and the group joined.
            async def assigned() -> bool:
                return bool(bus.assignments())

            await eventually(assigned, bool, timeout=60)
        finally:
            await bus.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _failed_lookup(error: Exception) -> logging.LogRecord:
    """The record aiokafka writes when a coordinator lookup fails."""
    return logging.getLogger(COORDINATOR_LOGGER).makeRecord(
        COORDINATOR_LOGGER,
        logging.ERROR,
        __file__,
        1,
        "Group Coordinator Request failed: %s",
        (error,),
        None,
    )


def test_a_coordinator_that_stays_away_is_an_error_and_other_failures_stay_errors() -> None:
    clock = _Clock()
    warm_up = CoordinatorWarmUp(clock=clock)
    logger = logging.getLogger(COORDINATOR_LOGGER)
    previous = logger.level
    logger.setLevel(logging.DEBUG)  # the DEBUG records written, to see each one's level
    try:
        levels = []
        # Asked again every 100 ms, as aiokafka does, for longer than the warm-up.
        while clock.now <= WARM_UP_S + 1:
            record = _failed_lookup(GroupCoordinatorNotAvailableError())
            assert warm_up.filter(record)
            levels.append(record.levelno)
            clock.now += 0.1
    finally:
        logger.setLevel(previous)
    assert set(levels[: int(WARM_UP_S / 0.1) - 1]) == {logging.DEBUG}
    assert levels[-1] == logging.ERROR
    assert record.__dict__["unavailable_s"] == round(WARM_UP_S + 1)

    # A lookup that ended (no answer for a while) and starts again is warmed up anew.
    clock.now += 60
    quiet = _failed_lookup(GroupCoordinatorNotAvailableError())
    logger.setLevel(logging.WARNING)  # as configure_logging sets aiokafka's loggers
    try:
        assert not warm_up.filter(quiet)  # a DEBUG record, which that level leaves out
    finally:
        logger.setLevel(previous)
    assert quiet.levelno == logging.DEBUG

    # Another cause (a broker that does not answer) is never turned down.
    refused = _failed_lookup(KafkaConnectionError())
    assert warm_up.filter(refused) and refused.levelno == logging.ERROR
