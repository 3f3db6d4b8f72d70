"""A consumer's first start on a fresh Kafka cluster logs no ERROR, and a coordinator that
stays away still does.

aiokafka logs "Group Coordinator Request failed: GroupCoordinatorNotAvailableError" at ERROR
each time it asks for a consumer group's coordinator and is told to wait, and it asks again.
A fresh cluster answers that to the first lookup ever: it creates its offsets topic
(``__consumer_offsets``) then, and the answer comes once the topic's partitions are loaded,
a fraction of a second later. Every clean first start showed an ERROR, which teaches an
operator to ignore ERRORs. The same answer for longer is a real failure (the offsets topic
cannot be created, ``offsets.topic.replication.factor`` being above the cluster's brokers),
so past a warm-up it goes through as aiokafka logged it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiokafka.errors import GroupCoordinatorNotAvailableError

COORDINATOR_LOGGER = "aiokafka.consumer.group_coordinator"
_LOOKUP_FAILED = "Group Coordinator Request failed"
# How long a coordinator may be unavailable before it is an error: far beyond the offsets
# topic's creation on a loaded machine (under a second), well within what an operator
# watching a start waits for.
WARM_UP_S = 30.0
# aiokafka asks again every 100 ms: a pause this long between two answers means the lookup
# ended (the coordinator found, the consumer stopped), and the next one starts afresh.
_LOOKUP_ENDED_AFTER_S = 10.0


class CoordinatorWarmUp(logging.Filter):
    """Turns aiokafka's "coordinator not available" records into DEBUG ones for the first
    ``warm_up_s`` of a lookup; after that they pass at their level (ERROR), carrying how long
    the coordinator has been unavailable (``unavailable_s``). Other records pass unchanged."""

    def __init__(
        self, warm_up_s: float = WARM_UP_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._warm_up_s = warm_up_s
        self._clock = clock
        self._since: float | None = None
        self._last = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if not _coordinator_not_available(record):
            return True
        now = self._clock()
        if self._since is None or now - self._last > _LOOKUP_ENDED_AFTER_S:
            self._since = now
        self._last = now
        unavailable_s = now - self._since
        if unavailable_s < self._warm_up_s:
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            # Written only where the logger's own level lets DEBUG through.
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        record.unavailable_s = round(unavailable_s)
        return True


def _coordinator_not_available(record: logging.LogRecord) -> bool:
    return (
        str(record.msg).startswith(_LOOKUP_FAILED)
        and isinstance(record.args, tuple)
        and any(isinstance(arg, GroupCoordinatorNotAvailableError) for arg in record.args)
    )


def quiet_coordinator_warm_up() -> None:
    """Puts the filter on aiokafka's coordinator logger, once per process."""
    logger = logging.getLogger(COORDINATOR_LOGGER)
    if not any(isinstance(f, CoordinatorWarmUp) for f in logger.filters):
        logger.addFilter(CoordinatorWarmUp())
