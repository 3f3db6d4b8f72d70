"""Request rate limits: token buckets in memory, one per API key, and one per
client address for failed authentication.

Each API process keeps its own buckets, so N processes behind a load balancer allow up to N
times the rate in total; that bounds a runaway client, which is the point, without a shared
store on the request path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Buckets kept before full ones (which hold nothing a new bucket would not) are dropped:
# a flood from many addresses must not grow the table without end.
_PRUNE_ABOVE = 10_000


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
        bucket = self._refilled(key, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return self._wait(bucket)

    def blocked_for(self, key: str, now: float) -> float | None:
        """Like ``retry_after`` without taking a token: the seconds until ``key`` has one,
        or None if it has one now."""
        if key not in self._buckets:
            return None
        bucket = self._refilled(key, now)
        return None if bucket.tokens >= 1.0 else self._wait(bucket)

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        full_after = self.burst / self._rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}

    def _wait(self, bucket: _Bucket) -> float:
        return (1.0 - bucket.tokens) / self._rate

    @property
    def _rate(self) -> float:
        return self.per_minute / 60.0
