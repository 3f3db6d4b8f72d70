"""Per-key request rate limits (brief §6): a token bucket per API key, in memory.

Each API process keeps its own buckets, so N processes behind a load balancer allow up to N
times the rate in total; that bounds a runaway client, which is the point, without a shared
store on the request path.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    per_minute: float
    burst: float
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def retry_after(self, key: str, now: float) -> float | None:
        """Take one token for ``key`` at monotonic time ``now``; None if allowed, else the
        seconds until a token is available."""
        rate = self.per_minute / 60.0
        bucket = self._buckets.setdefault(key, _Bucket(self.burst, now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / rate
