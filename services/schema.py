"""Every table of every service, gathered for migrations (and nothing else)."""

from __future__ import annotations

import alert_engine.models
import dispatcher.models
import intake_api.models
import shared.auth
import shared.inbox
import shared.outbox
from shared.db import Base

# The imports register each service's tables on the shared metadata.
_MODEL_MODULES = (
    alert_engine.models,
    dispatcher.models,
    intake_api.models,
    shared.auth,
    shared.inbox,
    shared.outbox,
)
metadata = Base.metadata
