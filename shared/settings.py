"""Process settings, read once at start-up from the environment and passed in.

Every setting is ``TIFLI_<NAME>``; the two that operators know by their conventional names
(``DATABASE_URL``, ``KAFKA_BOOTSTRAP_SERVERS``) are also accepted without the prefix.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.sealing import fernets

DEFAULT_RETRY_SCHEDULE_S = (0.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)
# [west, south, east, north]: Morocco's territory and about 50 km (0.5°) around it.
DEFAULT_SERVICE_AREA = (-17.6, 20.3, -0.5, 36.4)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TIFLI_", extra="ignore", frozen=True, populate_by_name=True
    )

    # --- plumbing -------------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite+aiosqlite:///./tifli.db",
        validation_alias=AliasChoices("TIFLI_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the database: a SQLite file in the embedded mode, "
        "`postgresql+asyncpg://…` in production.",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TIFLI_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
        description="Unset: the in-process bus (embedded mode). Set: Apache Kafka.",
    )
    topic_prefix: str = Field(
        default="tifli",
        description="Topics are `<prefix>.reports`, `<prefix>.alerts`, `<prefix>.dead-letter`.",
    )
    bus_partitions: int = Field(
        default=3, ge=1, le=256, description="Partitions per topic (created if missing)."
    )
    kafka_replication_factor: int = Field(
        default=1,
        ge=1,
        description="Replicas of each topic Tifli creates. 1 suits a single broker; production "
        "runs 3 (on at least 3 brokers), so a lost broker loses nothing.",
    )
    kafka_min_insync_replicas: int = Field(
        default=1,
        ge=1,
        description="Topic min.insync.replicas: replicas that must hold a write before it is "
        "acknowledged (acks=all). Production: 2 with replication 3, so one broker may fail "
        "while writes go on, and no acknowledged event exists on a single disk only.",
    )
    bus_max_attempts: int = Field(
        default=5, ge=1, description="Handler attempts before a message is dead-lettered."
    )
    host: str = Field(
        default="127.0.0.1",
        description="Where the API listens, and a worker's health port (`ops_port`).",
    )
    port: int = Field(default=8000, ge=0, le=65535, description="The API's port.")
    http_keep_alive_s: int = Field(
        default=75,
        ge=1,
        description="How long an HTTP server of Tifli keeps an idle connection open. Longer "
        "than clients keep theirs (httpx: 5 s; proxies: often 60 s): a server closing at the "
        "same moment as a client reuses the connection fails that request with a reset.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto the API believes (comma-separated, as uvicorn's "
        "--forwarded-allow-ips; '*' for any). Empty: none, so the client address is the TCP "
        "peer's and no local process can pass for another client (uvicorn alone would "
        "believe any from 127.0.0.1).",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Base of the links sent to partners (cap_url) and printed at start-up; "
        "unset: http://<host>:<port>. Set it behind a proxy or when listening on 0.0.0.0.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    @field_validator("log_level")
    @classmethod
    def _a_level(cls, level: str) -> str:
        named = level.upper()
        if named not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("give DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return named

    @field_validator("database_url")
    @classmethod
    def _a_database(cls, url: str) -> str:
        from sqlalchemy.engine import make_url  # here: `tifli --help` stays quick
        from sqlalchemy.exc import ArgumentError

        try:
            driver = make_url(url).drivername
        except ArgumentError:
            raise ValueError(
                "not a database URL (postgresql+asyncpg://… or sqlite+aiosqlite:///…)"
            ) from None
        if driver not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
            raise ValueError("give postgresql+asyncpg://… (production) or sqlite+aiosqlite:///…")
        return url

    log_json: bool = Field(default=False, description="One JSON object per log line (production).")
    data_key: str | None = Field(
        default=None,
        description="Fernet key (urlsafe base64, 32 bytes) sealing restricted report fields "
        "and partner secrets; several comma-separated, newest first, during a rotation (new "
        "values use the first, every one opens). Required with PostgreSQL; the embedded mode "
        "keeps one beside its SQLite file.",
    )

    @field_validator("data_key")
    @classmethod
    def _fernet_keys(cls, keys: str | None) -> str | None:
        if keys:  # empty: unset (the embedded mode's key file)
            fernets(keys)  # a ValueError says what is wrong, never the value
        return keys

    retention_days: float = Field(
        default=7.0,
        gt=0,
        le=3650,
        description="A case's personal data is erased this many days after it ends "
        "(resolved, cancelled, expired, rejected).",
    )
    retention_interval_minutes: float = Field(
        default=15.0, gt=0, description="How often the intake API looks for cases to erase."
    )
    idempotency_key_hours: float = Field(
        default=48.0,
        gt=0,
        description="An Idempotency-Key is remembered this many hours after its request: a "
        "retry within them gets the first answer; after, the key is new again.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, description="Larger request bodies are refused (413)."
    )
    rate_limit_per_minute: float = Field(
        default=600, ge=0, description="Requests per minute per API key and API process; 0: off."
    )
    rate_limit_burst: float = Field(default=60, ge=1, description="Requests allowed at once.")
    auth_failures_per_minute: float = Field(
        default=30,
        ge=0,
        description="Failed authentications (401) per minute per client address and API "
        "process, after a burst of as many; past it the address gets 429. 0: off.",
    )
    outbox_poll_interval_s: float = Field(
        default=1.0, gt=0, description="The relay's fallback poll (it is normally woken at once)."
    )
    ops_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Worker processes (relay, alert-engine, dispatcher) serve /healthz, "
        "/readyz and /metrics on this port; unset: they serve nothing.",
    )
    event_retention_days: float = Field(
        default=8.0,
        gt=0,
        description="Published outbox rows and processed-event ids are kept this long; "
        "longer than the broker keeps events (Kafka: 7 days), so no redelivery outlives them.",
    )
    attempt_retention_days: float = Field(
        default=90.0, gt=0, description="Attempts of finished deliveries are kept this long."
    )
    housekeeping_interval_minutes: float = Field(
        default=60.0, gt=0, description="How often each service prunes the tables it owns."
    )
    loop_stale_after_s: float = Field(
        default=60.0,
        gt=0,
        description="A background loop (deliveries, timers, relay, consumers) with no "
        "completed pass for this long makes its process unready.",
    )

    # --- alert engine: the zone and its time window ----------------------------------------
    zone_floor_km: float = Field(
        default=160.0, gt=0, description="The smallest radius of a zone's disks."
    )
    zone_cap_km: float = Field(default=2000.0, gt=0, description="National reach.")
    speed_foot_kmh: float = Field(
        default=5.0, ge=0, description="How fast a zone grows for a child on foot."
    )
    speed_vehicle_kmh: float = Field(
        default=80.0, ge=0, description="How fast a zone grows for a child taken by vehicle."
    )
    speed_public_transport_kmh: float = Field(
        default=60.0, ge=0, description="How fast a zone grows by public transport."
    )
    speed_unknown_kmh: float | None = Field(
        default=None, ge=0, description="Unset: the vehicle speed (assume the worst)."
    )
    zone_vertex_budget: int = Field(
        default=100,
        ge=8,
        le=10_000,
        description="Most vertices in each polygon sent, the closing repeat not counted "
        "(a CAP polygon of 100 vertices has 101 pairs: 99 for a gateway counting pairs).",
    )
    zone_max_polygons: int = Field(
        default=32,
        ge=1,
        le=100,
        description="Hole-free polygons a zone is sent as, at most (each within the vertex "
        "budget): a zone around an enclave is cut into parts, as CAP polygons have no holes, "
        "and a large zone along a winding border needs up to ~30 to keep within 161 m.",
    )
    zone_prepared_max: int = Field(
        default=256,
        ge=0,
        le=100_000,
        description="Zones the engine draws while their reports await review and keeps, in "
        "memory, for the approvals (the most recent; 10–80 kB each); 0: each zone is drawn "
        "when its version is issued.",
    )
    zone_sighting_horizon_hours: float = Field(
        default=3.0,
        ge=0,
        le=168,
        description="A trusted location older than the newest one by more than this drops "
        "out of the zone's union (0: the newest alone).",
    )
    zone_bias_side_fraction: float = Field(
        default=0.35,
        gt=0,
        le=1,
        description="With a known direction of travel, the corridor's half-width as a share "
        "of the reach (never below the floor); 1: no narrowing.",
    )
    zone_clip_to_territory: bool = Field(
        default=True, description="Clip zones to the national territory (off: the bare disk)."
    )
    territory_regions_file: str | None = Field(
        default=None,
        description="GeoJSON of the country's regions (ISO 3166-2 ids); unset: "
        "Morocco's, shipped with the alert engine.",
    )
    territory_provinces_file: str | None = Field(
        default=None, description="GeoJSON of provinces, for finer geocodes (optional)."
    )
    territory_foreign_land_file: str | None = Field(
        default=None,
        description="GeoJSON of the land around the country that is not its "
        "territory, to tell land overshoot from sea overshoot.",
    )
    territory_allowed_areas_file: str | None = Field(
        default=None,
        description="GeoJSON of where zone polygons may run, drawn from the regions and "
        "foreign land files by `python -m deploy.geodata.allowed --regions R --foreign-land F "
        "--out FILE`; unset: drawn at start (seconds).",
    )
    service_area: tuple[float, float, float, float] = Field(
        default=DEFAULT_SERVICE_AREA,
        description="[west, south, east, north], degrees: a box a report's or sighting's "
        "point must lie in, besides the service area file (default: around Morocco). A point "
        "outside is a 422, not an alert around Paris or a swapped latitude and longitude.",
    )
    service_area_file: str | None = Field(
        default=None,
        description="GeoJSON of where a report's or sighting's point may lie: the territory "
        "and about 50 km around it, drawn from the regions file by `python -m "
        "deploy.geodata.service_area --regions R --out FILE`; unset: Morocco's, shipped "
        "with the intake API. A point abroad or out at sea beyond it is a 422, not an alert "
        "over another country.",
    )
    alert_ttl_hours: float = Field(
        default=24.0,
        gt=0,
        description="An alert's time window from approval, unless the reviewer chooses one.",
    )

    @field_validator(
        "service_area_file",
        "territory_regions_file",
        "territory_provinces_file",
        "territory_foreign_land_file",
        "territory_allowed_areas_file",
    )
    @classmethod
    def _a_file(cls, path: str | None) -> str | None:
        if path and not Path(path).is_file():
            raise ValueError("no such file")
        return path

    @model_validator(mode="after")
    def _territory_files_together(self) -> Settings:
        # The other territory files describe the regions file's country: given without it,
        # they would be ignored in favour of the shipped Morocco, without a word.
        alone = [
            f"TIFLI_{name.upper()}"
            for name in (
                "territory_provinces_file",
                "territory_foreign_land_file",
                "territory_allowed_areas_file",
            )
            if getattr(self, name) and not self.territory_regions_file
        ]
        if alone:
            them, describe = ("it", "describes") if len(alone) == 1 else ("them", "describe")
            raise ValueError(
                f"{', '.join(alone)} {describe} the country of TIFLI_TERRITORY_REGIONS_FILE: "
                f"set that too, or unset {them} for the shipped territory"
            )
        return self

    @field_validator("service_area")
    @classmethod
    def _a_box(cls, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        west, south, east, north = box
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError("give [west, south, east, north] with west < east, south < north")
        return box

    widen_interval_minutes: float = Field(
        default=60.0, gt=0, description="How often the engine re-computes a growing zone."
    )
    widen_min_growth: float = Field(
        default=0.2, ge=0, description="Area growth (0.2 = +20%) that justifies a CAP Update."
    )
    timer_poll_interval_s: float = Field(
        default=5.0, gt=0, description="Longest nap of the engine's timer loop."
    )
    alert_timezone: str = Field(
        default="Africa/Casablanca",
        description="For times in alert texts, and the date a child's age is counted on.",
    )

    @field_validator("alert_timezone")
    @classmethod
    def _a_zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfoNotFoundError

        from shared.time_zones import time_zone

        try:
            time_zone(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "not a time zone of the IANA database (e.g. Africa/Casablanca)"
            ) from None
        return name

    alert_sender: str = Field(default="tifli@police.ma", description="CAP sender.")
    cap_signing_key: str | None = Field(
        default=None,
        description="RSA private key (2048 bits or more, unencrypted PEM, as text or a file's "
        "path) that signs every CAP document (XMLDSig, RSA-SHA256). Unset in the embedded "
        "mode: a development pair kept beside the SQLite file. Unset with PostgreSQL: the API "
        "does not start, unless TIFLI_CAP_UNSIGNED is true.",
    )
    cap_signing_certificate: str | None = Field(
        default=None,
        description="The X.509 certificate of TIFLI_CAP_SIGNING_KEY (PEM text or a file's "
        "path), embedded in each signature and served at /v1/cap/certificate.",
    )
    cap_unsigned: bool = Field(
        default=False,
        description="Serve CAP documents unsigned when no signing key is set (a deliberate "
        "choice: partners cannot tell Tifli's documents from forgeries).",
    )

    # --- dispatcher: webhooks --------------------------------------------------------------
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, description="Each webhook attempt's time-out."
    )
    webhook_retry_schedule_s: tuple[float, ...] = Field(
        default=DEFAULT_RETRY_SCHEDULE_S,
        description="The delay before each attempt of a delivery, seconds; the last repeats.",
    )
    webhook_retry_jitter: float = Field(
        default=0.2, ge=0, lt=1, description="± this share of each retry's delay, at random."
    )
    cancel_retry_hours: float = Field(
        default=72.0,
        gt=0,
        description="A Cancel keeps being retried this long past its planning, and its "
        "`expires` is at least this long after its send.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description=(
            "Allow http:// and loopback/private webhook targets (tests; `tifli demo` sets it "
            "for its own partner simulator on loopback)."
        ),
    )
    partner_concurrency: int = Field(
        default=4, ge=1, description="Requests in flight per partner, per dispatcher."
    )
    delivery_poll_interval_s: float = Field(
        default=1.0, gt=0, description="The dispatcher's fallback poll for due retries."
    )
    delivery_lease_s: float | None = Field(
        default=None,
        gt=0,
        description="How long a claimed delivery stays with its dispatcher before another may "
        "take it over (a dispatcher that died mid-send). Unset: the webhook time-out + 30 s.",
    )

    @model_validator(mode="after")
    def _lease_outlasts_a_post(self) -> Settings:
        # A lease that ends while its POST may still be waiting for the partner lets another
        # dispatcher take the delivery and send it again meanwhile.
        if self.delivery_lease_s is not None and self.delivery_lease_s <= self.webhook_timeout_s:
            raise ValueError(
                "TIFLI_DELIVERY_LEASE_S must be longer than TIFLI_WEBHOOK_TIMEOUT_S: a delivery "
                "would be taken over while its POST is still in flight"
            )
        return self

    @model_validator(mode="after")
    def _insync_replicas_exist(self) -> Settings:
        # More in-sync replicas than a topic has: Kafka refuses every acks=all write to it, so
        # the relay would publish nothing. (Checked by the bus too, where it was a traceback.)
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(
                "TIFLI_KAFKA_MIN_INSYNC_REPLICAS must be at most TIFLI_KAFKA_REPLICATION_FACTOR: "
                "no write could be acknowledged"
            )
        return self

    @property
    def base_url(self) -> str:
        """Where this deployment's API is reached from outside."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded mode's database (SQLite), which allows one writer at a
        time."""
        return self.database_url.startswith("sqlite")


# ``TIFLI_`` variables that are not a process's settings: the suite's own, the deployment
# files' own (the compose file's).
_NOT_SETTINGS = ("TIFLI_TEST_", "TIFLI_COMPOSE_")


def unread_variables(environ: Mapping[str, str]) -> list[str]:
    """The ``TIFLI_`` variables set that no setting reads, each with the one it most likely
    means: a misspelt setting (``TIFLI_WEBHOOK_TIMEOUT`` for ``TIFLI_WEBHOOK_TIMEOUT_S``)
    is otherwise ignored without a word, and its default applies."""
    known = {f"TIFLI_{name.upper()}" for name in Settings.model_fields}
    unread = []
    for name in sorted(environ):
        spelt = name.upper()  # read whatever its case
        if not spelt.startswith("TIFLI_") or spelt in known or spelt.startswith(_NOT_SETTINGS):
            continue
        likely = difflib.get_close_matches(spelt, sorted(known), n=1, cutoff=0.8)
        unread.append(f"{name} (did you mean {likely[0]}?)" if likely else name)
    return unread
