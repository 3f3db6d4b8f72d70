"""The embedded mode's files are its owner's alone: the SQLite database holds the public part
of every case in clear (pending and rejected ones too), its journal the same, and the key
files unseal the rest and sign CAP."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from services.testbed.sample_report import report_body
from services.testbed.stack import embedded_settings, start_stack


async def test_the_database_its_log_and_the_keys_are_owner_only(tmp_path: Path) -> None:
    running, server = await start_stack(embedded_settings(tmp_path))
    try:
        async with running.client("submitter") as police:
            created = await police.post("/v1/reports", json=report_body())
            assert created.status_code == 201, created.text
        files = ["tifli.db", "tifli.db-wal", "tifli.db-shm", "tifli.db.key", "tifli.db.cap-key.pem"]
        # While the server runs: the write-ahead log and its index exist only then.
        modes = {name: stat.S_IMODE(os.stat(tmp_path / name).st_mode) for name in files}
    finally:
        await server.__aexit__(None, None, None)
    assert all(mode & 0o077 == 0 for mode in modes.values()), {n: oct(m) for n, m in modes.items()}
