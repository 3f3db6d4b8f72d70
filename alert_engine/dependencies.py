"""What the alert routes take from the running app, as FastAPI dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from alert_engine.cap_signature import CapSigner
from alert_engine.reads import AlertReads
from alert_engine.schemas import MAX_SEQUENCE
from shared.input_types import QUERY_DIGITS
from shared.transaction import Transaction
from shared.web import part


@dataclass(frozen=True)
class CapSigning:
    """The app's part for CAP documents: the signer (None: this deployment serves them
    unsigned, an operator's choice)."""

    signer: CapSigner | None


async def cap_signer(request: Request) -> CapSigner | None:
    return part(request, CapSigning).signer


async def alert_reads(session: Transaction) -> AlertReads:
    return AlertReads(session)


Signer = Annotated[CapSigner | None, Depends(cap_signer)]
Alerts = Annotated[AlertReads, Depends(alert_reads)]
# ``?sequence=n``: one version of an alert; absent, the current one.
VersionSequence = Annotated[
    int | None, Query(ge=1, le=MAX_SEQUENCE, description="A given version"), QUERY_DIGITS
]
# Spelt as HTTP spells it: the document names the header so, and clients generated from it
# send it so (FastAPI would name it ``if-none-match`` from the parameter).
IfNoneMatch = Annotated[
    str | None,
    Header(alias="If-None-Match", description="The ETag of a copy already held."),
]
