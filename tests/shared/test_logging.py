"""Quiet outages: a client library that logs every failed reconnect writes one line per
interval, with the count of what it held back; everything else passes untouched."""

from __future__ import annotations

import io
import json
import logging

from shared.logging import CHATTY_CLIENTS, CollapseRepeats, configure_logging


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_repeats_collapse_into_one_line_per_interval_with_a_count() -> None:
    clock = Ticks()
    collapse = CollapseRepeats(("aiokafka",), interval_s=30, clock=clock)
    shown = [
        collapse.filter(_record("aiokafka.conn", logging.ERROR, "Unable to connect to %s", n))
        for n in range(1000)
    ]
    assert shown.count(True) == 1 and shown[0]
    clock.now += 31
    later = _record("aiokafka.conn", logging.ERROR, "Unable to connect to %s", "node 1")
    assert collapse.filter(later)
    assert later.repeated == 999  # type: ignore[attr-defined]
    # A different message, or the same one at another level, is its own run.
    assert collapse.filter(_record("aiokafka.conn", logging.ERROR, "Other failure"))
    assert collapse.filter(_record("aiokafka.conn", logging.WARNING, "Unable to connect to %s"))


def test_only_chatty_clients_and_flagged_records_collapse() -> None:
    collapse = CollapseRepeats(("aiokafka",), interval_s=30, clock=Ticks())
    ours = [collapse.filter(_record("dispatcher.worker", logging.WARNING, "x")) for _ in range(5)]
    assert all(ours)
    infos = [collapse.filter(_record("aiokafka.conn", logging.INFO, "x")) for _ in range(5)]
    assert all(infos)
    flagged = []
    for _ in range(5):
        record = _record("shared.problems", logging.WARNING, "dependency unavailable")
        record.collapse = True
        flagged.append(collapse.filter(record))
    assert flagged == [True, False, False, False, False]


def test_the_process_logging_collapses_the_kafka_client(log_output: io.StringIO) -> None:
    assert "aiokafka" in CHATTY_CLIENTS
    for _ in range(200):
        logging.getLogger("aiokafka.client").error("Unable connect to node with id %s", 1)
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert len(lines) == 1 and lines[0]["logger"] == "aiokafka.client"
    assert "collapse" not in lines[0]


def test_a_client_s_text_cannot_forge_a_line_in_the_text_format() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("INFO", as_json=False, stream=stream)
    forged = "/v1/x\ntime=2026-12-04T00:00:00.000+00:00 level=error message=report\x00"
    try:
        logging.getLogger("tifli.access").info("request", extra={"path": forged, "status": 404})
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    [line] = stream.getvalue().splitlines()  # one line, whatever the path held
    assert "message=request " in line and line.endswith("status=404")  # plain words stay bare
    assert json.loads(line.split(" path=")[1].removesuffix(" status=404")) == forged
    assert "\x00" not in line
