"""A local stand-in for MuniForce: the parts of Salesforce's REST and Bulk 2.0 APIs the sync uses, on
127.0.0.1, persistent in SQLite. Tests and the demo drive it with the real simple-salesforce client.

    with start_standin(tmp / "muniforce.sqlite", fail_every=7) as sf_org:
        sf = connect(sf_org.url, session_id=sf_org.session_id)

What it is faithful to, and the fault injection it offers: see `server.py`, `store.py`, `bulk_jobs.py`,
`faults.py` and docs/muniforce.md. `toshav standin --db PATH --port N` runs it in the foreground.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from connectors.muniforce.mapping import load_mapping
from connectors.muniforce.standin.bulk_jobs import BulkJobs
from connectors.muniforce.standin.catalog import build_catalog, record_types
from connectors.muniforce.standin.faults import Faults
from connectors.muniforce.standin.server import MAX_BODY, MAX_UPLOAD, App, make_server
from connectors.muniforce.standin.store import Store

DEFAULT_DAILY_LIMIT = 100_000
ORG_ID = "00DDn00000Toshav"


class StandIn:
    """A running stand-in. `url` and `session_id` are what `connect()` needs."""

    def __init__(self, db_path: Path, port: int = 0, session_id: str | None = None,
                 daily_limit: int = DEFAULT_DAILY_LIMIT, describe_overrides: dict | None = None,
                 max_body: int = MAX_BODY, max_upload: int = MAX_UPLOAD, **faults):
        self.db_path = Path(db_path)
        mapping = load_mapping()
        self.store = Store(self.db_path, build_catalog(mapping, describe_overrides), record_types(mapping))
        stored = self.store.meta("session_id")
        self.session_id = session_id or stored or _new_session()
        if self.session_id != stored:
            self.store.set_meta("session_id", self.session_id)
        # token -> None (the org administrator) or an authority's Municipal__c code
        self.sessions: dict[str, str | None] = {self.session_id: None}
        for key, token in self.store.meta_items("tenant_session:"):
            self.sessions[token] = key.removeprefix("tenant_session:")
        self.faults = Faults(**faults)
        self.jobs = BulkJobs(self.store, self.db_path.with_name(self.db_path.name + ".jobs"), self.faults)
        self.app = App(self.store, self.jobs, self.faults, self.sessions, daily_limit, max_body, max_upload)
        self.server = make_server(self.app, port)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="standin-http", daemon=True)
        self._thread.start()

    # -- controls for tests and the demo --------------------------------------------------------
    def tenant_session(self, municipal: str | int) -> str:
        """The session of an authority's integration user (issued once, kept in the database): it sees and
        writes only records whose Municipal__c is `municipal`, and shares the org's API quota."""
        code = str(municipal)
        key = f"tenant_session:{code}"
        token = self.store.meta(key)
        if token is None:
            token = _new_session()
            self.store.set_meta(key, token)
        self.sessions[token] = code
        return token

    @property
    def stats(self) -> dict[str, int]:
        """Requests served by kind (collections_upsert, bulk_create, query, fault_5xx, ...)."""
        return dict(self.app.stats)

    def set_faults(self, **faults) -> None:
        for name, value in faults.items():
            if not hasattr(self.faults, name) or name.startswith("_"):
                raise TypeError(f"unknown fault {name!r}")
            setattr(self.faults, name, value)

    @property
    def daily_limit(self) -> int:
        return self.app.daily_limit

    @daily_limit.setter
    def daily_limit(self, value: int) -> None:
        self.app.daily_limit = value

    def api_usage(self) -> int:
        return self.store.api_usage()

    def reset_api_usage(self) -> None:
        """As if a new day had started."""
        self.store.reset_api_usage()

    def records(self, obj: str, include_deleted: bool = False) -> list[dict]:
        return self.store.rows(obj, include_deleted)

    # -- lifecycle ---------------------------------------------------------------------------
    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
        self.jobs.stop()
        self.store.close()

    def __enter__(self) -> "StandIn":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _new_session() -> str:
    return f"{ORG_ID}!{secrets.token_urlsafe(32)}"


def start_standin(db_path: Path, port: int = 0, **faults) -> StandIn:
    """Starts the stand-in in this process, in a background thread, on 127.0.0.1:`port` (0: a free port).

    Keyword arguments: session_id, daily_limit, describe_overrides, max_body, max_upload (bytes), and the
    faults of `Faults` (fail_every, lock_every, crash_bulk_after, crash_bulk_jobs, latency, other_tenants)."""
    return StandIn(Path(db_path), port, **faults)


def run_foreground(db_path: Path, port: int, daily_limit: int = DEFAULT_DAILY_LIMIT, echo=print,
                   tenants: tuple[str, ...] = ()) -> None:
    """Runs the stand-in until interrupted (Ctrl-C or SIGTERM); prints how to connect (as the org
    administrator, and as each authority in `tenants`)."""
    import signal

    standin = start_standin(db_path, port, daily_limit=daily_limit)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    echo(f"MuniForce stand-in on {standin.url} (data: {standin.db_path})")
    echo(f"  export MUNIFORCE_INSTANCE_URL={standin.url}")
    echo(f"  export MUNIFORCE_SESSION_ID='{standin.session_id}'   # the org administrator: every authority")
    for code in tenants:
        echo(f"  export MUNIFORCE_SESSION_ID='{standin.tenant_session(code)}'   # authority {code} only")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
