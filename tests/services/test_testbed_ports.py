"""The production testbed hands each of a stack's servers a port of its own, and test
processes run side by side (pytest-xdist) hand out ports of lanes of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

import services.testbed.loopback as loopback
import services.testbed.production as production
from services.testbed.loopback import bound_socket, free_port, free_ports, use_port_lane
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


def test_each_test_process_hands_out_ports_of_its_own_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    # Another lane's process may have chosen a port for a server that has not bound it yet:
    # this one never chooses it (each process of the run takes a lane of its own).
    monkeypatch.setattr(loopback, "_LANES", loopback._Lanes())
    use_port_lane(2, 3)
    ports = [*free_ports(20), free_port()]
    assert len(set(ports[:20])) == 20
    assert {p % 3 for p in ports} == {2}
    with bound_socket() as sock:
        bound = sock.getsockname()[1]
    assert bound % 3 == 2
    # Below the ephemeral range: no outgoing connection of any process can hold one of them
    # (the system picks their local ports from that range).
    ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(20_000 <= p < ephemeral for p in [*ports, bound])
    with pytest.raises(ValueError, match="lane 3 is not one of 3"):
        use_port_lane(3, 3)
