"""Every Salesforce call of the sync goes through `Caller`: bounded retries with back-off, the quota share.

simple-salesforce raises on any status >= 300 and retries nothing. Salesforce answers transient trouble
with 5xx, `UNABLE_TO_LOCK_ROW` and `REQUEST_LIMIT_EXCEEDED` (403, also for too many concurrent requests):
those are retried a bounded number of times with exponential back-off. Anything else is not retried.

The org's daily API quota is shared by every authority in MuniForce. `Caller` reads the usage that the last
response reported (`Sforce-Limit-Info`) and stops the run cleanly (`QuotaStop`) before a call would take
the org past the configured share of its daily limit. Everything recorded so far stays recorded; the next
run picks up what is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

import requests
from simple_salesforce.exceptions import SalesforceError

from connectors.muniforce.client import ApiMeter

T = TypeVar("T")

TRANSIENT_CODES = {"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "API_CURRENTLY_DISABLED"}


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per call and the back-off between them: base * factor**n seconds, at most max_delay."""

    attempts: int = 5
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * self.factor ** attempt)


class QuotaStop(RuntimeError):
    """The run stopped before exhausting its share of the org's daily API quota (resumable)."""


class SalesforceCallError(RuntimeError):
    """A call failed for good. The message names the call and Salesforce's code, never record values."""

    def __init__(self, what: str, status: int | None, code: str | None):
        self.status, self.code = status, code
        super().__init__(f"Salesforce call {what} failed: HTTP {status} {code or ''}".rstrip())


def error_code(exc: BaseException) -> tuple[int | None, str | None]:
    """(HTTP status, Salesforce errorCode) of a simple-salesforce exception."""
    if isinstance(exc, SalesforceError):
        content = exc.content
        code = None
        if isinstance(content, list) and content and isinstance(content[0], dict):
            code = content[0].get("errorCode")
        elif isinstance(content, dict):
            code = content.get("errorCode")
        return exc.status, code
    return None, None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    status, code = error_code(exc)
    return (status is not None and status >= 500) or code in TRANSIENT_CODES


class Caller:
    """Runs calls with retries and keeps the run inside its quota share."""

    def __init__(self, meter: ApiMeter, retry: RetryPolicy, quota_share: float):
        self.meter = meter
        self.retry = retry
        self.quota_share = quota_share
        self.start_calls = meter.calls
        # What an earlier run saw may be a day old: the first answer of this run tells the usage again
        # (so a run may make one call before it knows it must stop).
        meter.used = meter.limit = None

    @property
    def calls(self) -> int:
        return self.meter.calls - self.start_calls

    def reserve(self, calls: int) -> None:
        """Stop (QuotaStop) if `calls` more would take the org past the share of its daily limit."""
        used, limit = self.meter.used, self.meter.limit
        if used is None or not limit:
            return
        allowed = int(limit * self.quota_share)
        if used + calls > allowed:
            raise QuotaStop(
                f"stopped before exceeding the quota share: org usage {used}/{limit} API calls today, "
                f"share {self.quota_share:.0%} = {allowed}; the next run resumes"
            )

    def __call__(self, what: str, fn: Callable[[], T], reserve: bool = True) -> T:
        """Calls fn, retrying transient failures. `reserve=False` for calls that finish work already
        started (polling a running Bulk job): those are not stopped by the quota share."""
        for attempt in range(self.retry.attempts):
            if reserve:
                self.reserve(1)
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - classified below
                status, code = error_code(exc)
                if not is_transient(exc):
                    raise SalesforceCallError(what, status, code) from None
                if code == "REQUEST_LIMIT_EXCEEDED" and self.meter.used is not None and self.meter.limit \
                        and self.meter.used >= self.meter.limit:
                    # the daily limit itself, not a burst: waiting minutes would not help
                    raise QuotaStop(f"Salesforce refuses calls (REQUEST_LIMIT_EXCEEDED) at {what}: org usage "
                                    f"{self.meter.used}/{self.meter.limit} today; the next run resumes") from None
                if attempt + 1 == self.retry.attempts:
                    if code == "REQUEST_LIMIT_EXCEEDED":
                        raise QuotaStop(f"Salesforce refuses calls (REQUEST_LIMIT_EXCEEDED) at {what}; "
                                        "the next run resumes") from None
                    raise SalesforceCallError(what, status, code or type(exc).__name__) from None
                self.retry.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")

    def sleep_between_rounds(self, round_no: int) -> None:
        self.retry.sleep(self.retry.delay(round_no))

