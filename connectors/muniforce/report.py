"""The run report: counts per target, the rejections with Salesforce's code, and why a run stopped early.

Nothing here holds a personal value: keys are opaque resident keys, messages are redacted before they get
here (`redact`), and `metadata()` is counts only (for Dagster).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

COUNTS = ("created", "updated", "unchanged", "deactivated", "deleted", "rejected", "pending")
MAX_REJECTS_KEPT = 1000   # the full list is in the sync-state table


@dataclass
class TargetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    deleted: int = 0
    rejected: int = 0
    pending: int = 0   # left for the next run: transient trouble, or a quota stop


@dataclass(frozen=True)
class Reject:
    target: str
    key: str
    code: str
    message: str
    fields: str = ""


@dataclass
class SyncReport:
    municipality: int
    dry_run: bool = False
    targets: dict[str, TargetCounts] = field(default_factory=dict)
    api_calls: int = 0
    api_usage: str | None = None   # "used/limit" from the last Sforce-Limit-Info
    rejects: list[Reject] = field(default_factory=list)
    stopped: str | None = None
    nothing_to_send: bool = False

    def counts(self, target: str) -> TargetCounts:
        return self.targets.setdefault(target, TargetCounts())

    def add_reject(self, reject: Reject) -> None:
        if len(self.rejects) < MAX_REJECTS_KEPT:
            self.rejects.append(reject)

    @property
    def totals(self) -> TargetCounts:
        t = TargetCounts()
        for c in self.targets.values():
            for name in COUNTS:
                setattr(t, name, getattr(t, name) + getattr(c, name))
        return t

    def metadata(self) -> dict:
        """Counts only: safe for Dagster metadata and logs."""
        totals = asdict(self.totals)
        return {
            **totals,
            "api_calls": self.api_calls,
            "stopped": self.stopped or "",
            "by_target": json.dumps({t: asdict(c) for t, c in self.targets.items()}),
            "rejects_by_code": json.dumps(dict(Counter(r.code for r in self.rejects))),
        }

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        lines = [f"MuniForce sync of municipality {self.municipality}" + (" (dry run: nothing sent)" if self.dry_run else "")]
        header = f"  {'target':<22}" + "".join(f"{c:>12}" for c in COUNTS)
        lines.append(header)
        for target, c in self.targets.items():
            lines.append(f"  {target:<22}" + "".join(f"{getattr(c, n):>12}" for n in COUNTS))
        lines.append(f"  (created/updated/deactivated/deleted: records that {verb} written)")
        lines.append(f"  API calls: {self.api_calls}" + (f", org usage today {self.api_usage}" if self.api_usage else ""))
        if self.stopped:
            lines.append(f"  STOPPED: {self.stopped}")
        if self.rejects:
            lines.append("  Rejected by Salesforce (retried next run):")
            for code, n in Counter(r.code for r in self.rejects).most_common():
                lines.append(f"    {code}: {n}")
            for r in self.rejects[:10]:
                fields = f" [{r.fields}]" if r.fields else ""
                lines.append(f"    {r.target} {r.key}: {r.code}{fields} {r.message}")
            if len(self.rejects) > 10:
                lines.append(f"    ... {len(self.rejects) - 10} more in table muniforce_sync_state")
        return "\n".join(lines)


def redact(message: str, values) -> str:
    """Salesforce echoes record values in messages ('data value too large: <value>'): replace every value
    of the record by «value» so a message can be logged and shown."""
    for v in sorted({str(v) for v in values if v is not None and len(str(v)) >= 2}, key=len, reverse=True):
        message = message.replace(v, "«value»")
    return message
