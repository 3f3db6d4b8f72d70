"""schemathesis hooks for the property-based run (tests/services/test_fuzz_openapi.py).

Loaded by the ``st`` process (``SCHEMATHESIS_HOOKS``), configured through ``FUZZ_*``
environment variables. The schema cannot say what the case logic needs (consent must be
true, a last-seen time in the recent past, a reviewer other than the submitter, an id that
exists), so without help almost no generated request would get past validation. These hooks
fix up *positive* cases only, so they reach that logic; negative cases go as generated.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, HookContext

from shared.auth import key_id_of

_BASE_URL = os.environ.get("FUZZ_BASE_URL", "")
_KEYS: dict[str, str] = json.loads(os.environ.get("FUZZ_KEYS", "{}"))
_IDS: dict[str, str] = json.loads(os.environ.get("FUZZ_IDS", "{}"))
_PARTNER: dict[str, str] = json.loads(os.environ.get("FUZZ_PARTNER", "{}"))
_REPORT: dict[str, Any] = json.loads(os.environ.get("FUZZ_REPORT", "{}"))
# The run's own keys, as a revocation can name them: by id or by name.
_OWN_KEYS = {key_id_of(k) for k in _KEYS.values()} | set(
    json.loads(os.environ.get("FUZZ_KEY_NAMES", "[]"))
)

# Acts that reach the public need a second key (four eyes).
_REVIEW_OPERATIONS = {"approve", "reject", "renew", "cancel"}
_ENDS_A_CASE = {"approve", "reject", "cancel", "resolve"}
_CASABLANCA = {"lat": 33.5731, "lon": -7.5898}
_ALL_CONFIRMED = {
    "child_under_18": True,
    "involuntary_or_at_risk": True,
    "enough_descriptive_information": True,
    "guardian_consent_recorded": True,
    "publication_adds_no_risk": True,
}


def _ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def _api(key: str) -> httpx.Client:
    return httpx.Client(base_url=_BASE_URL, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _case_for(action: str) -> str:
    """The case an act on a report goes to: one in a state where the act is allowed."""
    if action == "renew":
        return _IDS["approved_report_id"]  # renewing again and again is allowed
    if action == "sightings":
        return _IDS["submitted_report_id"]
    if action not in _ENDS_A_CASE:
        return _IDS["approved_report_id"]
    # Acts that end the case (or approve it) each need a new one.
    body = {**_REPORT, "last_seen": {**_REPORT["last_seen"], "at": _ago(30)}}
    with _api(_KEYS["operator"]) as operator:
        created = operator.post("/v1/reports", json=body)
        created.raise_for_status()
        report_id: str = created.json()["id"]
    return report_id


def _disposable_key() -> str:
    """The id of a key made to be revoked: a revocation aimed at one of the run's own keys
    (their ids come back in the keys list, and the fuzzer reuses ids it has seen) would
    leave every later request of the run refused."""
    body = {"name": f"disposable-{uuid.uuid4().hex[:8]}", "scopes": ["alerts:read"], "unit": None}
    with _api(_KEYS["operator"]) as operator:
        created = operator.post("/v1/keys", json=body)
        created.raise_for_status()
        key_id: str = created.json()["id"]
    return key_id


def _placed(where: dict[str, Any], minutes_ago: int) -> None:
    where["at"] = _ago(minutes_ago)
    if where.get("location") is None and where.get("place_name") is None:
        where["location"] = dict(_CASABLANCA)
    if where.get("destination") is not None and where.get("heading_deg") is not None:
        where["destination"] = None
    destination = where.get("destination")
    if isinstance(destination, dict):
        destination["location"] = dict(_CASABLANCA)


def _fix_body(action: str, method: str, body: Any) -> None:
    if not isinstance(body, dict):
        return
    if method == "POST" and action == "reports":
        _placed(body["last_seen"], 30)
        body["guardian"]["consent_to_publication"] = True
        body["child"].pop("birth_date", None)
        if body["child"].get("age") is None:
            body["child"]["age"] = 9
    elif action == "sightings":
        _placed(body, 10)
    elif action == "approve":
        body["criteria"] = dict(_ALL_CONFIRMED)
    elif method == "POST" and action == "partners":
        body["url"] = _PARTNER["url"]
        body["verify_token"] = _PARTNER["verify_token"]
        body["coverage"] = None


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    segments = case.operation.path.strip("/").split("/")
    action = segments[-1]
    review = action in _REVIEW_OPERATIONS
    if case.headers is None:
        case.headers = CaseInsensitiveDict()
    case.headers["Authorization"] = f"Bearer {_KEYS['reviewer' if review else 'operator']}"
    parameters = case.path_parameters or {}
    if action == "revoke" and parameters.get("key_id") in _OWN_KEYS:
        parameters["key_id"] = _disposable_key()
    if case.meta is None or case.meta.generation.mode.is_negative:
        return
    if "report_id" in parameters:
        parameters["report_id"] = _case_for(action)
    for name in ("alert_id", "partner_id", "delivery_id"):
        if name in parameters:
            parameters[name] = _IDS[name]
    _fix_body(action, case.method.upper(), case.body)
    if action == "reports" and case.headers.get("Idempotency-Key"):
        # A generated key repeats across cases with other bodies: a 409 each time, and the
        # submission itself never tried. (Replays have their own tests.)
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
