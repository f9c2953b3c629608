"""Requests per minute per person, in memory (one server process): a runaway script or a stuck reload is slowed
down before it reaches the database. Rows per hour per role are counted from the audit instead (`queries`)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable

REQUESTS_PER_MINUTE = 120


class RequestRate:
    """A sliding one-minute window of request times per subject."""

    def __init__(self, per_minute: int = REQUESTS_PER_MINUTE, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, subject: str) -> bool:
        now = self.clock()
        with self._lock:
            times = self._seen[subject]
            while times and now - times[0] >= 60.0:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            if len(self._seen) > 10_000:                 # forget people idle for a minute
                for key in [k for k, v in self._seen.items() if not v or now - v[-1] >= 60.0]:
                    del self._seen[key]
            return True
