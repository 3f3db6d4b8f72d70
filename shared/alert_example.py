"""One alert message as partners receive it, for the API documentation's examples.

Made once by the real composer (a 160 km zone around Casablanca, its polygon thinned to a few
vertices so the example stays readable); the alert engine's and the dispatcher's documents
both show it, so it lives beside the contract it illustrates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ALERT_MESSAGE_EXAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "alert_example.json").read_text(encoding="utf-8")
)
