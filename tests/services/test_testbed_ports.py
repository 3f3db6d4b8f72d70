"""The production testbed hands each of a stack's servers a port of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

import services.testbed.production as production
from services.testbed.production import Processes


def test_a_port_the_system_hands_out_twice_goes_to_one_server_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system may call a port free again before the server it went to has bound it: the
    # API's port came back for the alert engine's health endpoint, which then exited.
    handed_out = iter([41000, 41000, 41001, 41000, 41001, 41002])
    monkeypatch.setattr(production, "free_port", lambda: next(handed_out))
    processes = Processes({}, tmp_path, ports={41000})
    assert [processes.new_port(), processes.new_port()] == [41001, 41002]
    assert processes.ports == {41000, 41001, 41002}
