"""Nobody falls off an emergency list: from real deliveries through identity to the named queries.

- everyone Yachad reports not located is on `yachad_not_located`, with Yachad's phone, consent or not;
- a hand-kept registry row without an ID number is linked to its resident through a diminutive (יוסי / יוסף);
- one that matches nobody is still on the lists it qualifies for, marked, and in identity review;
- only a row with neither a name nor an address is quarantined.
"""

import datetime as dt

from pipelines.identity import build_emergency_profile, build_resident_file, resolve_identities
from pipelines.identity.emergency_reports import build_emergency_system_reports
from pipelines.publishing import publish
from serving.queries import run_query
from tests.identity.deliveries import (JABOTINSKY, MUNI, background_register, deliver, key_of, register_row,
                                       valid_id)

NOW = dt.datetime(2026, 11, 3)
TRACKED = [valid_id(41_000_000 + i) for i in range(5)]
YOSEF = valid_id(42_000_001)


def _chain(con):
    resolve_identities(con, now=NOW)
    build_resident_file(con, MUNI, now=NOW)
    build_emergency_profile(con, MUNI, now=NOW)
    return build_emergency_system_reports(con, MUNI)


def _run(con, tmp_path, name, **params):
    """Run a named query as the emergency manager on the municipality's state, published as a run publishes it;
    rows as dicts."""
    home = tmp_path / "home"
    publish(con, MUNI, home, run_id="test")
    result = run_query(name, MUNI, {k: [v] for k, v in params.items()}, role="emergency_manager", user="test",
                       home=home)
    names = [c.name for c in result.columns]
    return [dict(zip(names, row)) for row in result.rows]


def _yachad(record_id, national_id, phone):
    return {"source_record_id": record_id, "national_id": national_id, "full_name": "כהן שרה", "phone": phone,
            "address_text": "ז'בוטינסקי 12 דירה 4", "status": "לא אותר", "updated_at": "02/11/2026 08:00"}


def test_everyone_yachad_cannot_locate_is_listed_with_yachads_phone_without_consent_or_statutory_basis(con, tmp_path):
    register = background_register() + [register_row(i, "שרה", "כהן", f"0{k + 1}/03/1950", house=str(20 + k))
                                         for k, i in enumerate(TRACKED)]
    deliver(con, tmp_path, register=register,
            yachad=[_yachad(f"Y{k}", i, f"052-55500{k}{k}") for k, i in enumerate(TRACKED)])
    counts = _chain(con)
    assert counts == {"emergency_system_reports": 5, "reports_without_profile_basis": 5}
    assert con.execute("SELECT count(*) FROM emergency_profile").fetchall()[0][0] == 0    # not widened
    assert set(con.execute("SELECT legal_basis FROM emergency_system_reports").fetchall()) == {("government_emergency_system",)}
    rows = _run(con, tmp_path, "yachad_not_located")
    assert len(rows) == 5
    assert sorted(r["yachad_phone"] for r in rows) == [f"052-555-00{k}{k}" for k in range(5)]
    assert {r["yachad_status"] for r in rows} == {"לא אותר"}


def _registry(first, last, street="ז'בוטינסקי", house="12", apartment="4", birth="01/02/1950", **extra):
    return {"national_id": "", "first_name": first, "last_name": last, "birth_date": birth, "street_name": street,
            "house_number": house, "apartment": apartment, "consent": "כן", "consent_date": "01/01/2026",
            "assistance_needs": "מכשור רפואי תלוי חשמל", "updated_at": "01/10/2026", **extra}


def test_registry_rows_without_an_id_are_linked_or_listed_marked_never_dropped(con, tmp_path):
    register = background_register() + [register_row(YOSEF, "יוסף", "מזרחי", "01/02/1950", street=JABOTINSKY,
                                                     house="12", apartment="4")]
    deliver(con, tmp_path, register=register, registry=[
        _registry("יוסי", "מזרחי"),                                            # the register's יוסף, by his everyday name
        _registry("נעמה", "שטיינברג", street="סוקולוב", house="40", apartment="2", birth="03/03/1944"),  # nobody
        _registry("", "", street="", house="", apartment=""),                 # names nobody: quarantined
    ])
    _chain(con)
    # linked: the registry row joins the register's person
    yossi = con.execute("SELECT resident_key FROM identity_records WHERE source = 'disability_registry' "
                        "AND birth_date = DATE '1950-02-01'").fetchall()
    assert yossi == [(key_of(con, "population_register", YOSEF),)]
    # quarantined: only the row with neither a name nor an address
    assert con.execute("SELECT row, fields FROM quarantine WHERE source = 'disability_registry'").fetchall() == \
        [(4, ["first_name"])]
    staged = con.execute("SELECT count(*) FROM stg_disability_registry").fetchall()[0][0]
    assert staged == 2
    # both are on the electricity list; the unmatched one is marked, at the address the registry gives
    rows = {r["last_name"]: r for r in _run(con, tmp_path, "power_dependent", dependency="electricity")}
    assert set(rows) == {"מזרחי", "שטיינברג"}
    assert rows["מזרחי"]["not_in_register"] == "לא"
    assert rows["שטיינברג"]["not_in_register"] == "כן"
    assert (rows["שטיינברג"]["street_name"], rows["שטיינברג"]["house_number"]) == ("סוקולוב", "40")
    # and the unmatched one waits in identity review (named by file and row, not by a value)
    review = con.execute("SELECT source_a, record_a FROM identity_review WHERE kind = 'unmatched_registrant'").fetchall()
    assert review == [("disability_registry", "registry_1.xlsx#3")]
