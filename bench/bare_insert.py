"""The baseline for intake throughput: a bare FastAPI endpoint doing one insert.

Same framework, same server, same database and driver as the intake API, none of its work:
no auth, no validation beyond JSON, no encryption, no idempotency, audit or outbox.
Run by bench/intake_throughput.py as its own process:
    python -m bench.bare_insert <database-url> <port>
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Column, MetaData, String, Table, Text, insert

from shared.db import create_engine

metadata = MetaData()
bare_reports = Table(
    "bare_reports", metadata, Column("id", String(36), primary_key=True), Column("body", Text)
)


def create_app(database_url: str) -> FastAPI:
    engine = create_engine(database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/bare", status_code=201)
    async def bare(body: dict[str, Any]) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        async with engine.begin() as connection:
            await connection.execute(insert(bare_reports).values(id=row_id, body=str(body)))
        return {"id": row_id}

    return app


if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(create_app(url), host="127.0.0.1", port=port, log_level="warning")
