"""Deterministic fault injection, so tests can show the sync survives what real orgs do to it.

- fail_every=N: every Nth API request fails with HTTP 503. For writes (sObject Collections, sObject rows)
  every second such failure happens *after* the write was applied: the work is done but the answer is
  lost, which is what makes a naive retry create duplicates.
- lock_every=N: every Nth record write fails once with UNABLE_TO_LOCK_ROW (a record is locked once at most).
- crash_bulk_after=N: a Bulk job processes N records, then fails (InternalServerError) leaving the rest
  unprocessed; `crash_bulk_jobs` jobs crash this way (default 1).
- latency: seconds added to every request (to kill a sync mid-run in tests).
- other_tenants=N: N API calls of other authorities in the shared org land before each of ours, so the
  usage a client last saw is always out of date (how a run meets 403 REQUEST_LIMIT_EXCEEDED).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    fail_every: int = 0
    lock_every: int = 0
    crash_bulk_after: int | None = None
    crash_bulk_jobs: int = 1
    latency: float = 0.0
    other_tenants: int = 0
    _requests: int = field(default=0, repr=False)
    _failures: int = field(default=0, repr=False)
    _writes: int = field(default=0, repr=False)
    _locked: set = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request_failure(self, is_write: bool) -> str | None:
        """None, 'before' (refuse the request) or 'after' (apply it, then answer 5xx)."""
        with self._lock:
            self._requests += 1
            if not self.fail_every or self._requests % self.fail_every:
                return None
            self._failures += 1
            return "after" if is_write and self._failures % 2 == 0 else "before"

    def lock_error(self, key: str) -> bool:
        with self._lock:
            self._writes += 1
            if self.lock_every and self._writes % self.lock_every == 0 and key not in self._locked:
                self._locked.add(key)
                return True
            return False

    def take_bulk_crash(self) -> int | None:
        """Records the next Bulk job may process before it crashes (None: it does not crash)."""
        with self._lock:
            if self.crash_bulk_after is None or self.crash_bulk_jobs <= 0:
                return None
            self.crash_bulk_jobs -= 1
            return self.crash_bulk_after
