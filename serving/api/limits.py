"""Requests per minute per consumer: a token bucket each, refilled continuously; over the limit -> 429 with the
seconds until the next request would be allowed (Retry-After)."""

from __future__ import annotations

import math
import threading
import time
from typing import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}    # consumer -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, consumer: str, per_minute: int) -> int:
        """0 when the request may go ahead, else the whole seconds to wait (at least 1)."""
        rate = per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(consumer, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[consumer] = (tokens - 1.0, now)
                return 0
            self._buckets[consumer] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))
