"""Fixtures: a municipality database with crafted residents, and the stand-in driven by the real
simple-salesforce client over HTTP. Names are generated, not real people."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import requests

from connectors.delivery import ensure_deliveries
from connectors.muniforce.calls import RetryPolicy
from connectors.muniforce.client import connect
from connectors.muniforce.standin import start_standin
from connectors.muniforce.sync import SyncOptions
from schemas import ddl

MUNI = 6600
FIRST = ["משה", "שרה", "יוסף", "רחל", "דוד", "לאה", "אברהם", "מרים"]
LAST = ["כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהמי", "פרידמן", "שלום"]


def key(i: int) -> str:
    return f"R{i:020X}"


def make_db(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(ddl("resident_file"))
    con.execute(ddl("emergency_profile"))
    con.execute("CREATE TABLE IF NOT EXISTS identity_merges (retired_key VARCHAR, surviving_key VARCHAR, "
                "merged_at TIMESTAMP)")
    return con


def add_residents(con: duckdb.DuckDBPyConnection, n: int, start: int = 0, status: str = "active",
                  municipality: int = MUNI) -> None:
    """n residents with keys key(start) .. key(start+n-1): Hebrew names, an address, phones, e-mail."""
    first = "[" + ",".join(f"'{x}'" for x in FIRST) + "]"
    last = "[" + ",".join(f"'{x}'" for x in LAST) + "]"
    con.execute(
        f"""
        INSERT INTO resident_file (resident_key, municipality_code, national_id, id_type, first_name, last_name,
            gender, birth_date, street_code, street_name, house_number, entrance, apartment, floor, zip_code,
            mobile_phone, phone, email, household_key, status, sources, updated_at)
        SELECT 'R' || lpad(upper(to_hex(i)), 20, '0'), {int(municipality)}, lpad(CAST(10000000 + i AS VARCHAR), 9, '0'),
               'IsraeliID', {first}[1 + i % 8], {last}[1 + (i // 8) % 8], 'male',
               DATE '1950-01-01' + CAST(i * 37 % 20000 AS INTEGER), 100 + i % 40, 'הרצל', CAST(1 + i % 90 AS VARCHAR),
               CASE WHEN i % 5 = 0 THEN 'א' END, CAST(1 + i % 12 AS VARCHAR), i % 9, '5800000',
               '+97250' || lpad(CAST(i AS VARCHAR), 7, '0'), NULL, 'resident' || i || '@example.org',
               'H' || (i // 3), '{status}', ['population_register'], TIMESTAMP '2026-11-01 08:00:00'
        FROM range({start}, {start + n}) t(i)
        """
    )


def add_profiles(con: duckdb.DuckDBPyConnection, where: str = "true") -> None:
    """An emergency profile (consent given) for the residents matching `where`."""
    con.execute(
        f"""
        INSERT INTO emergency_profile (resident_key, municipality_code, needs_codes, disability_types, mobility,
            electricity_dependent, oxygen_dependent, floor, has_elevator, lives_alone, has_emergency_support,
            emergency_contact_name, emergency_contact_phone, emergency_contact_relation, legal_basis,
            consent_status, consent_date, information_source, updated_at)
        SELECT resident_key, municipality_code, ['WHEELCHAIR', 'ESCORT_EVACUATION'], ['PHYSICAL'], 'wheelchair',
               false, false, floor, false, true, false, 'איש קשר', '+972521234567', 'בן', 'consent', 'given',
               DATE '2026-01-15', 'רווחה', TIMESTAMP '2026-11-01 08:00:00'
        FROM resident_file WHERE {where}
        """
    )


class Sleeps:
    """Back-off sleeps recorded instead of slept: retries stay deterministic and fast."""

    def __init__(self):
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def options(**kw) -> SyncOptions:
    defaults = dict(retry=RetryPolicy(attempts=6, base_delay=0.5, sleep=Sleeps()), poll_interval=0.01,
                    max_poll_interval=0.05, municipality_name="חולון")
    return SyncOptions(**{**defaults, **kw})


@pytest.fixture
def con(tmp_path):
    c = make_db(tmp_path / "toshav.duckdb")
    yield c
    c.close()


@pytest.fixture
def standin(tmp_path):
    s = start_standin(tmp_path / "muniforce.sqlite")
    yield s
    s.stop()


@pytest.fixture
def sf(standin):
    return connect(standin.url, session_id=standin.session_id)


def live(standin, obj: str) -> dict[str, dict]:
    """Live records of an object in the stand-in, by external ID (fails on duplicates)."""
    out = {}
    for r in standin.records(obj):
        k = r["Resident_Key__c"]
        assert k not in out, "duplicate record in the stand-in"
        out[k] = r
    return out


class Rest:
    """Raw REST calls to the stand-in as the Salesforce docs write them (no Salesforce client library):
    `rest.get("sobjects/Account/describe")` is GET /services/data/v62.0/sobjects/Account/describe."""

    def __init__(self, url: str, session_id: str, version: str = "62.0"):
        self.base = f"{url}/services/data/v{version}/"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {session_id}"

    def __call__(self, method: str, path: str, **kw) -> requests.Response:
        return self.http.request(method, self.base + path, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self("GET", path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self("POST", path, **kw)

    def patch(self, path: str, **kw) -> requests.Response:
        return self("PATCH", path, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self("DELETE", path, **kw)

    def query(self, soql: str, resource: str = "query") -> dict:
        r = self.get(resource, params={"q": soql})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def rest(standin):
    r = Rest(standin.url, standin.session_id)
    yield r
    r.http.close()


def person_type(rest: Rest) -> str:
    """Id of the PersonAccount record type, from describe's recordTypeInfos."""
    infos = rest.get("sobjects/Account/describe").json()["recordTypeInfos"]
    return next(i["recordTypeId"] for i in infos if i["developerName"] == "PersonAccount")


def deliver_register_today(con) -> None:
    """A register delivery dated today: the register's policy lets the sync run only on a current register."""
    ensure_deliveries(con)
    con.execute("""INSERT INTO deliveries (delivery_id, source, file, file_hash, status, rows, malformed, ingested_at,
                                           data_as_of) VALUES (1, 'population_register', 'register.csv', 'h', 'ingested',
                                           25, 0, now(), now())""")
