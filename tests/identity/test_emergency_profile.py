"""The emergency profile exists only with consent or a statutory source; withdrawn consent removes registry data."""

import datetime as dt

from pipelines.identity import build_emergency_profile, build_resident_file, resolve_identities
from schemas.model import table
from tests.identity.deliveries import deliver, key_of, register_row, valid_id
import pytest

pytestmark = pytest.mark.e2e   # crafted deliveries through ingest, staging, identity and the emergency profile

GIVEN, WITHDRAWN, WITHDRAWN_WITH_ODS, ODS_ONLY, YACHAD_ONLY = (valid_id(b) for b in (3933742, 2233445, 4455667,
                                                                                    5566778, 6677889))


def registry(national_id, first, consent, consent_date="", **extra):
    return {"national_id": national_id, "first_name": first, "last_name": "כהן", "birth_date": "01/02/1950",
            "consent": consent, "consent_date": consent_date, "updated_at": "01/10/2026", **extra}


def ods(national_id, indicator, ministry, updated_at="2026-10-01T00:00:00"):
    return {"id_number": national_id, "first_name": "x", "last_name": "כהן", "birth_date": "1950-02-01",
            "source_ministry": ministry, "indicator": indicator, "updated_at": updated_at}


def yachad(record_id, national_id, status, location=""):
    return {"source_record_id": record_id, "national_id": national_id, "full_name": "כהן x", "status": status,
            "current_location": location, "needs_text": "תרופות", "updated_at": "02/11/2026 08:00"}


def build(con, tmp_path, registry_rows, tag="1", now=dt.datetime(2026, 11, 3), ods_updated_at="2026-10-01T00:00:00"):
    deliver(con, tmp_path / tag,
            register=[register_row(i, n, "כהן", "01/02/1950", house=str(k + 1)) for k, (i, n) in enumerate(
                [(GIVEN, "אהרן"), (WITHDRAWN, "בתיה"), (WITHDRAWN_WITH_ODS, "גילה"), (ODS_ONLY, "דבורה"),
                 (YACHAD_ONLY, "הדר")])],
            ods=[ods(WITHDRAWN_WITH_ODS, "oxygen_dependent", "HEALTH", ods_updated_at),
                 ods(ODS_ONLY, "senior_alone", "WELFARE", ods_updated_at),
                 ods(ODS_ONLY, "mobility_allowance", "NII", ods_updated_at)],
            yachad=[yachad("Y1", GIVEN, "לא אותר"), yachad("Y2", YACHAD_ONLY, "מאושפז", "וולפסון"),
                    yachad("Y3", ODS_ONLY, "מפונה", "מלון")],
            registry=registry_rows, tag=tag)
    resolve_identities(con, now=now)
    build_resident_file(con, 6600, now=now)
    return build_emergency_profile(con, 6600, now=now)


def profiles(con):
    cols = table("emergency_profile").columns
    return {r[0]: dict(zip(cols, r)) for r in con.execute(f"SELECT {', '.join(cols)} FROM emergency_profile").fetchall()}


FIRST_REGISTRY = [
    registry(GIVEN, "אהרן", "כן", "01/01/2025", floor="4", has_elevator="לא", lives_alone="כן",
             disability_types="פיזית", assistance_needs="כיסא גלגלים, מכשור רפואי תלוי חשמל",
             emergency_contact_name="יעל", emergency_contact_phone="050-2345678", information_source="רווחה"),
    registry(WITHDRAWN, "בתיה", "לא", "01/06/2026", floor="2", disability_types="ראייה", assistance_needs="כלב נחייה"),
    registry(WITHDRAWN_WITH_ODS, "גילה", "לא", "01/06/2026", floor="7", assistance_needs="ליווי קבוע"),
]


def test_profiles_exist_only_with_consent_or_a_statutory_source(con, tmp_path):
    counts = build(con, tmp_path, FIRST_REGISTRY)
    p = profiles(con)
    key = lambda national_id: key_of(con, "population_register", national_id)  # noqa: E731
    assert set(p) == {key(GIVEN), key(WITHDRAWN_WITH_ODS), key(ODS_ONLY)}
    assert counts["profiles"] == 3 and counts["consent_withdrawn"] == 1

    given = p[key(GIVEN)]
    assert (given["legal_basis"], given["consent_status"], given["consent_date"]) == ("consent", "given", dt.date(2025, 1, 1))
    assert given["needs_codes"] == ["ELECTRIC_MEDICAL", "MEDICATION", "WHEELCHAIR"]   # registry + Yachad's text
    assert (given["mobility"], given["electricity_dependent"], given["oxygen_dependent"]) == ("wheelchair", True, False)
    assert (given["floor"], given["has_elevator"], given["lives_alone"]) == (4, False, True)
    assert given["emergency_contact_phone"] == "+972502345678"
    assert (given["yachad_status"], given["information_source"]) == ("not_located", "רווחה")

    withdrawn = p[key(WITHDRAWN_WITH_ODS)]    # consent withdrawn: the registry's floor and needs are gone
    assert (withdrawn["legal_basis"], withdrawn["consent_status"]) == ("statutory", "withdrawn")
    assert withdrawn["needs_codes"] == ["OXYGEN"] and withdrawn["floor"] is None
    assert withdrawn["statutory_sources"] == ["HEALTH"] and withdrawn["oxygen_dependent"]

    ods_only = p[key(ODS_ONLY)]
    assert (ods_only["legal_basis"], ods_only["consent_status"]) == ("statutory", "none")
    assert ods_only["statutory_sources"] == ["NII", "WELFARE"]
    assert ods_only["lives_alone"] is True and ods_only["mobility"] == "assisted"
    assert (ods_only["yachad_status"], ods_only["yachad_location"]) == ("evacuated", "מלון")


def test_consent_withdrawn_on_a_later_delivery_removes_the_profile(con, tmp_path):
    build(con, tmp_path, FIRST_REGISTRY, now=dt.datetime(2026, 11, 3))
    given_key = key_of(con, "population_register", GIVEN)
    assert given_key in profiles(con)
    # Next month the registry sheet says "no" (no date typed): a withdrawal of the consent held before.
    later = [registry(GIVEN, "אהרן", "לא", floor="4", assistance_needs="כיסא גלגלים"), *FIRST_REGISTRY[1:]]
    counts = build(con, tmp_path, later, tag="2", now=dt.datetime(2026, 12, 3))
    assert given_key not in profiles(con)
    assert counts["profiles"] == 2
    # nor does the resident file keep anything from the registry for this resident
    sources = con.execute("SELECT sources, floor FROM resident_file WHERE resident_key = ?", [given_key]).fetchall()
    assert sources == [(["population_register", "yachad"], None)]


def test_a_profile_whose_sources_carry_no_dates_keeps_its_updated_at_across_runs(con, tmp_path):
    """Otherwise every run would stamp `now` and the sync would resend unchanged profiles."""
    undated = [{**r, "updated_at": ""} for r in FIRST_REGISTRY]
    build(con, tmp_path, undated, now=dt.datetime(2026, 11, 3), ods_updated_at="")
    before = {k: v["updated_at"] for k, v in profiles(con).items()}
    assert dt.datetime(2026, 11, 3) in before.values()          # at least one profile had no dated source
    build_emergency_profile(con, 6600, now=dt.datetime(2026, 12, 3))
    after = {k: v["updated_at"] for k, v in profiles(con).items()}
    assert after == before
