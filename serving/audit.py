"""The audit log: every request to read the resident file, granted or not, and an audit that proves itself.

What a record holds: when (UTC), a sequence number, the municipality, the authenticated subject, role, peer
address, channel (cli | web | api | bench | audit), the query, its parameters (clipped before they are written:
`clip_parameters`), the row count, the outcome and a short reason, the export formats. Never the rows.

Why it can be trusted: records are appended with a sequence number and each carries `mac`, an HMAC-SHA256 under a
secret kept outside the file (`TOSHAV_AUDIT_KEY`, or the key file `audit_key_path()`), over its own content and
the `mac` of the record before it (a hash chain). Someone who can write the file but not read the key cannot edit,
delete or reorder a record without `verify` saying which:
- edited: the record's MAC does not match its content;
- deleted: a sequence number is missing (or, at the end, a record the sink holds is missing from the file);
- reordered: a record is stored after a record with a higher sequence number.
SQLite triggers still refuse UPDATE and early DELETE (defence in depth); the chain is what proves it.

Each record is also written as one JSON line to a sink (`TOSHAV_AUDIT_SINK`: `file:PATH`, `syslog`,
`syslog:HOST:PORT`, `none`; default `audit.jsonl` beside the log), so it can be kept on another machine.

Retention: the Protection of Privacy (Data Security) Regulations, 2017, ask for access records to be kept at
least 24 months; `purge` removes only older records and appends a record saying so, which `verify` accepts as the
new start of the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import logging.handlers
import os
import secrets
import sqlite3
import threading
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol

from pipelines.private_files import open_private_append, private_dir, private_file, write_private_bytes
from pipelines.settings import municipality_db_path

RETENTION_MONTHS = 24
OUTCOMES = ("ok", "denied", "unauthenticated", "invalid", "malformed", "too_large", "rate_limited", "error",
            "purged")
CHANNELS = ("cli", "web", "api", "bench", "audit")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"   # SQLite's own datetime() format, so the triggers compare like with like
GENESIS = "0" * 64                   # the `prev_mac` of the first record
MAX_TEXT = 200                       # characters of one parameter value, subject, query name
MAX_KEYS = 30                        # parameter names kept
MAX_ITEMS = 20                       # values kept per parameter
MAX_PARAMETERS_JSON = 4000           # characters of the whole parameters field
_FIELDS = ("seq", "at", "municipality", "subject", "role", "peer", "channel", "query", "parameters", "row_count",
           "outcome", "reason", "exports", "prev_mac")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit_records (
    seq          INTEGER NOT NULL UNIQUE, -- 1, 2, 3 ... in the order written
    at           TEXT NOT NULL,           -- UTC, {_TIME_FORMAT}
    municipality INTEGER NOT NULL,
    subject      TEXT NOT NULL,           -- who, as authenticated ('' when nobody was)
    role         TEXT NOT NULL,
    peer         TEXT NOT NULL,           -- network peer address ('' on the command line)
    channel      TEXT NOT NULL,
    query        TEXT NOT NULL,
    parameters   TEXT NOT NULL,           -- JSON, clipped
    row_count    INTEGER,                 -- NULL when nothing was returned
    outcome      TEXT NOT NULL CHECK (outcome IN {OUTCOMES!r}),
    reason       TEXT NOT NULL,           -- one short word for refusals ('' when granted)
    exports      TEXT,                    -- csv, xlsx: what the rows were handed out as
    prev_mac     TEXT NOT NULL,
    mac          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_records_at ON audit_records (at);
CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are never changed'); END;
CREATE TRIGGER IF NOT EXISTS audit_records_retention BEFORE DELETE ON audit_records
WHEN old.at > datetime('now', '-{RETENTION_MONTHS} months')
BEGIN SELECT RAISE(ABORT, 'audit records are kept {RETENTION_MONTHS} months'); END;
"""

_log = logging.getLogger(__name__)


class AuditKeyMissing(RuntimeError):
    """No audit key is configured and none can be created."""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: dt.datetime
    municipality: int
    subject: str
    role: str
    peer: str
    channel: str
    query: str
    parameters: dict[str, Any]
    row_count: int | None
    outcome: str
    reason: str
    exports: str | None
    prev_mac: str
    mac: str

    def as_json(self) -> str:
        d = asdict(self)
        d["at"] = self.at.strftime(_TIME_FORMAT)
        return json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Problem:
    """What `verify` found wrong, naming the record."""

    seq: int | None
    kind: str            # edited | deleted | reordered | truncated
    message: str


# --- the key -------------------------------------------------------------------------------------------------------

def audit_key_path() -> Path:
    configured = os.environ.get("TOSHAV_AUDIT_KEY_FILE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "toshav" / "audit.key"


def audit_key() -> bytes:
    """The MAC key: TOSHAV_AUDIT_KEY (at least 32 characters), else the key file, created (0600) on first use.

    The key lives outside TOSHAV_HOME on purpose: whoever can rewrite the audit must not also find the key there."""
    value = os.environ.get("TOSHAV_AUDIT_KEY")
    if value:
        if len(value) < 32:
            raise AuditKeyMissing("TOSHAV_AUDIT_KEY is shorter than 32 characters")
        return value.encode("utf-8")
    path = audit_key_path()
    if not path.exists():
        try:
            write_private_bytes(path, secrets.token_hex(32).encode("ascii"))
        except OSError as e:
            raise AuditKeyMissing(f"no TOSHAV_AUDIT_KEY and the key file {path} cannot be created: "
                                  f"{e.strerror}") from None
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise AuditKeyMissing(f"the audit key file {path} holds fewer than 32 characters")
    return key


# --- the sink ------------------------------------------------------------------------------------------------------

class Sink(Protocol):
    def emit(self, line: str) -> None: ...


class FileSink:
    """JSON lines appended to a file (0600); `path` is also where `verify` looks for records cut off the end."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def emit(self, line: str) -> None:
        with self._lock, open_private_append(self.path) as f:
            f.write(line + "\n")


class SyslogSink:
    """JSON lines to syslog (the local /dev/log, or HOST:PORT over UDP), facility authpriv."""

    def __init__(self, address: str | tuple[str, int] = "/dev/log"):
        self.handler = logging.handlers.SysLogHandler(
            address=address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
        self.handler.ident = "toshav-audit: "

    def emit(self, line: str) -> None:
        self.handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO, "levelname": "INFO"}))


class NoSink:
    def emit(self, line: str) -> None:
        pass


def sink_from(spec: str | None, default_file: Path) -> Sink:
    """`file:PATH` | `syslog` | `syslog:HOST:PORT` | `none`; unset: a file beside the log."""
    if not spec:
        return FileSink(default_file)
    kind, _, rest = spec.partition(":")
    if kind == "file" and rest:
        return FileSink(Path(rest))
    if kind == "syslog":
        if not rest:
            return SyslogSink()
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"TOSHAV_AUDIT_SINK: write syslog:HOST:PORT, not {spec!r}")
        return SyslogSink((host, int(port)))
    if kind == "none":
        return NoSink()
    raise ValueError(f"TOSHAV_AUDIT_SINK: unknown sink {spec!r} (file:PATH, syslog, syslog:HOST:PORT, none)")


# --- clipping what callers send ------------------------------------------------------------------------------------

def clip(text: Any, limit: int = MAX_TEXT) -> str:
    """A short single-line text: control characters replaced, cut at `limit` with an ellipsis."""
    s = "" if text is None else str(text)
    s = "".join(c if c.isprintable() else "\ufffd" for c in s)
    return s if len(s) <= limit else s[:limit - 1] + "…"


def clip_parameters(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameters as they may be written: at most MAX_KEYS names and MAX_ITEMS values each, each clipped, the
    whole under MAX_PARAMETERS_JSON characters; what was cut is counted under `_clipped`."""
    out: dict[str, Any] = {}
    cut = 0
    for i, (name, values) in enumerate((raw or {}).items()):
        if i >= MAX_KEYS:
            cut += 1
            continue
        items = values if isinstance(values, (list, tuple)) else [values]
        kept = [clip(v) for v in items[:MAX_ITEMS]]
        cut += max(0, len(items) - MAX_ITEMS)
        out[clip(name, 40)] = kept
    text = json.dumps(out, ensure_ascii=False)
    while len(text) > MAX_PARAMETERS_JSON and out:
        out.popitem()
        cut += 1
        text = json.dumps(out, ensure_ascii=False)
    if cut:
        out["_clipped"] = cut
    return out


# --- the log -------------------------------------------------------------------------------------------------------

def audit_path(municipality: int | str, home: Path | None = None) -> Path:
    return municipality_db_path(municipality, home).parent / "audit.sqlite"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps({k: fields[k] for k in _FIELDS}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


class AuditLog:
    """Append-only, hash-chained access to one municipality's audit log."""

    def __init__(self, path: Path, *, key: bytes | None = None, sink: Sink | None = None):
        self.path = Path(path)
        self._ready = False
        self._key = key
        self.sink = sink if sink is not None else sink_from(os.environ.get("TOSHAV_AUDIT_SINK"),
                                                            self.path.with_suffix(".jsonl"))

    @classmethod
    def of(cls, municipality: int | str, home: Path | None = None, **kwargs) -> "AuditLog":
        return cls(audit_path(municipality, home), **kwargs)

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = audit_key()
        return self._key

    def _mac(self, fields: Mapping[str, Any]) -> str:
        return hmac.new(self.key, _canonical(fields), hashlib.sha256).hexdigest()

    def _connect(self) -> sqlite3.Connection:
        private_dir(self.path.parent)
        if not self.path.exists():
            self._ready = False          # a new (or removed and recreated) file gets its schema again
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if not self._ready:          # once per process and file: schema, WAL, owner-only modes
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
            for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                private_file(p)
            self._ready = True
        return con

    def record(self, *, municipality: int, subject: str, role: str, channel: str, query: str,
               parameters: Mapping[str, Any] | None = None, row_count: int | None = None, outcome: str,
               reason: str = "", exports: str | Iterable[str] | None = None, peer: str = "",
               at: dt.datetime | None = None) -> AuditEntry:
        """Append one record (clipping what the caller sent) and emit it to the sink; raises if it cannot be
        written (the caller then hands out nothing)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        if channel not in CHANNELS:
            raise ValueError(f"unknown audit channel {channel!r}")
        if exports is not None and not isinstance(exports, str):
            exports = ",".join(exports) or None
        fields: dict[str, Any] = dict(
            at=(at or _now()).strftime(_TIME_FORMAT), municipality=int(municipality), subject=clip(subject),
            role=clip(role, 64), peer=clip(peer, 64), channel=channel, query=clip(query, 64),
            parameters=json.dumps(clip_parameters(parameters), ensure_ascii=False, sort_keys=True),
            row_count=None if row_count is None else int(row_count), outcome=outcome, reason=clip(reason, 64),
            exports=clip(exports, 64) if exports else None)
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")      # one writer at a time: the chain must not fork
            try:
                last = con.execute("SELECT seq, mac FROM audit_records ORDER BY seq DESC LIMIT 1").fetchone()
                fields["seq"], fields["prev_mac"] = (last[0] + 1, last[1]) if last else (1, GENESIS)
                fields["mac"] = self._mac(fields)
                con.execute(f"INSERT INTO audit_records ({', '.join(fields)}) VALUES "
                            f"({', '.join('?' * len(fields))})", list(fields.values()))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        entry = _entry(fields)
        self.sink.emit(entry.as_json())
        return entry

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[AuditEntry]:
        with closing(self._connect()) as con:
            con.row_factory = sqlite3.Row
            return [_entry(dict(r)) for r in con.execute(sql, list(args)).fetchall()]

    def entries(self, since: dt.datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Newest first."""
        sql, args = "SELECT * FROM audit_records", []
        if since is not None:
            sql += " WHERE at >= ?"
            args.append(since.strftime(_TIME_FORMAT))
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return self._rows(sql, args)

    def rows_handed_out(self, subject: str, since: dt.datetime) -> int:
        """How many rows `subject` was handed since `since` (granted runs), for the per-role hourly limits."""
        if not self.path.exists():
            return 0
        with closing(self._connect()) as con:
            return con.execute("SELECT coalesce(sum(row_count), 0) FROM audit_records WHERE subject = ? AND at >= ?"
                               " AND outcome = 'ok'", (clip(subject), since.strftime(_TIME_FORMAT))).fetchone()[0]

    def verify(self) -> list[Problem]:
        """Every edited, deleted or reordered record, named by sequence number; [] when the log is intact."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as con:
            con.row_factory = sqlite3.Row
            raw = [dict(r) for r in con.execute("SELECT * FROM audit_records ORDER BY rowid").fetchall()]
        stored = [_entry(r) for r in raw]
        problems: list[Problem] = []
        highest = 0
        for fields, e in zip(raw, stored):
            if not hmac.compare_digest(self._mac(fields), str(e.mac)):
                problems.append(Problem(e.seq, "edited", f"record {e.seq} ({fields['at']}) was edited: its MAC "
                                                         "does not match its content"))
            if e.seq < highest:
                problems.append(Problem(e.seq, "reordered", f"record {e.seq} is stored after record {highest}: "
                                                            "records were reordered"))
            highest = max(highest, e.seq)
        by_seq = sorted(stored, key=lambda e: e.seq)
        purged_through = max((int((e.parameters.get("through_seq") or ["0"])[0]) for e in by_seq
                              if e.outcome == "purged"), default=0)
        expected_seq, expected_prev = 1, GENESIS
        if by_seq and purged_through and by_seq[0].seq == purged_through + 1:
            expected_seq, expected_prev = by_seq[0].seq, by_seq[0].prev_mac
        for e in by_seq:
            if e.seq > expected_seq:
                gap = f"record {expected_seq}" if e.seq == expected_seq + 1 else \
                    f"records {expected_seq} to {e.seq - 1}"
                problems.append(Problem(expected_seq, "deleted", f"{gap} deleted (before record {e.seq})"))
            elif e.prev_mac != expected_prev and not any(p.seq == e.seq - 1 and p.kind == "edited"
                                                         for p in problems):
                problems.append(Problem(e.seq, "edited", f"record {e.seq} does not follow record {e.seq - 1}: "
                                                         "the chain is broken"))
            expected_seq, expected_prev = e.seq + 1, e.mac
        problems += self._cut_from_the_end(by_seq[-1].seq if by_seq else 0)
        return sorted(problems, key=lambda p: (p.seq or 0, p.kind))

    def _cut_from_the_end(self, last_seq: int) -> list[Problem]:
        """Records the file sink holds beyond the last one in the log: deleted from the end."""
        if not isinstance(self.sink, FileSink) or not self.sink.path.exists():
            return []
        beyond = []
        with open(self.sink.path, encoding="utf-8") as f:
            for line in f:
                try:
                    seq = int(json.loads(line)["seq"])
                except (ValueError, KeyError, TypeError):
                    continue
                if seq > last_seq:
                    beyond.append(seq)
        if not beyond:
            return []
        lo, hi = min(beyond), max(beyond)
        which = f"record {lo}" if lo == hi else f"records {lo} to {hi}"
        return [Problem(lo, "deleted", f"{which} deleted from the end (the sink {self.sink.path.name} holds them)")]

    def purge(self, older_than_months: int = RETENTION_MONTHS) -> int:
        """Delete records older than `older_than_months` (never fewer than RETENTION_MONTHS); returns how many.
        The purge itself is recorded, so `verify` knows where the chain now starts."""
        if older_than_months < RETENTION_MONTHS:
            raise ValueError(f"audit records are kept at least {RETENTION_MONTHS} months")
        with closing(self._connect()) as con:
            cutoff = con.execute("SELECT datetime('now', ?)", (f"-{int(older_than_months)} months",)).fetchone()[0]
            row = con.execute("SELECT max(seq), count(*), max(municipality) FROM audit_records WHERE at < ?",
                              (cutoff,)).fetchone()
            if not row[1]:
                return 0
            con.execute("BEGIN IMMEDIATE")
            con.execute("DELETE FROM audit_records WHERE seq <= ?", (row[0],))
            con.execute("COMMIT")
        self.record(municipality=row[2], subject="", role="", channel="audit", query="purge",
                    parameters={"through_seq": [str(row[0])], "count": [str(row[1])]}, outcome="purged")
        return row[1]


def _entry(fields: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=fields["seq"], at=dt.datetime.strptime(fields["at"], _TIME_FORMAT), municipality=fields["municipality"],
        subject=fields["subject"], role=fields["role"], peer=fields["peer"], channel=fields["channel"],
        query=fields["query"], parameters=json.loads(fields["parameters"]), row_count=fields["row_count"],
        outcome=fields["outcome"], reason=fields["reason"], exports=fields["exports"], prev_mac=fields["prev_mac"],
        mac=fields["mac"])
