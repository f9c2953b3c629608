"""Suites are derived from schemas/ and expectations.yaml: what the model says becomes a check, and only public
columns may ever be shown as samples."""

import pytest

from connectors.muniforce.mapping import load_mapping, wire_name
from quality.suites import Expectation, Suite, _validate, config, suites, suites_of
from schemas import load_source
from schemas.model import load_model
from schemas.sources import SOURCES


def test_model_rules_become_checks_on_the_model_tables():
    rf = suites()["resident_file"]
    names = {e.name for e in rf.expectations}
    model = load_model()["resident_file"]
    for f in model.fields:
        if f.required:
            assert f"{f.name}_not_null" in names
        if f.values:
            assert rf[f"{f.name}_in_set"].values == f.values
        if f.format:
            assert f"{f.name}_{f.format}" in names
    assert {"resident_key_unique", "national_id_israeli_id", "mobile_phone_e164", "municipality_code_cbs_code",
            "schema", "row_count_drift"} <= names
    assert dict(rf["schema"].columns)["sources"] == "VARCHAR[]"
    # hand-written expectations join the derived ones
    assert "residents_with_valid_id_share" in names
    assert {"consent_or_statutory", "profile_has_resident"} <= {e.name for e in suites()["emergency_profile"].expectations}


def test_source_mappings_become_checks_on_raw_and_staged_tables():
    for source in SOURCES:
        mapping = load_source(source)
        stg = {e.name: e for e in suites()[f"stg_{source}"].expectations}
        raw = {e.name: e for e in suites()[f"raw_{source}"].expectations}
        for c in mapping.columns:
            if c.required:
                assert stg[f"{c.field}_not_null"].kind == "not_null"
                assert raw[f"{c.field}_present"].severity == "WARN"
            if c.parser == "phone":
                assert stg[f"{c.field}_e164"].kind == "format"
        assert {"invalid_id_share", "quarantine_share", "row_count_drift", "schema"} <= set(stg)
    assert suites()["stg_ods"]["source_ministry_in_set"].values == ("NII", "WELFARE", "HEALTH", "MOD_REHAB")
    # thresholds per asset from expectations.yaml
    assert suites()["stg_population_register"]["invalid_id_share"].max_share == 0.01
    assert suites()["stg_yachad"]["invalid_id_share"].max_share == 0.10
    assert suites()["stg_population_register"]["invalid_id_share"].severity == "ERROR"
    assert suites()["stg_ods"]["invalid_id_share"].severity == "WARN"


def test_payload_suites_follow_the_muniforce_mapping():
    mapping = load_mapping()
    for obj in mapping.objects:
        payload = [s for s in suites_of(suites())[obj.source] if s.payload_object == obj.name]
        assert len(payload) == 1
        names = {e.name for e in payload[0].expectations}
        for f in obj.fields:
            if f.required:
                assert any(n.endswith("_required") and n.startswith("payload_") for n in names)
            if f.type == "Picklist" and f.restricted and f.values:
                assert any(e.values == f.values for e in payload[0].expectations)
        assert any(n.endswith("external_id_unique") for n in names)
    lastname = suites()["muniforce_payload_account"]["payload_account_lastname_length"]
    assert "> 80" in lastname.violation


def _sensitivity(suite: Suite) -> dict[str, str]:
    if suite.payload_object:
        mapping = load_mapping()
        obj = mapping.object(suite.payload_object)
        return {wire_name(obj, f, mapping): f.sensitivity for f in obj.fields} | {"key": "public", "ext": "public"}
    if suite.table in load_model():
        return {f.name: f.sensitivity for f in load_model()[suite.table].fields}
    if suite.source:
        out = {"delivery_id": "public", "_file": "public", "_file_hash": "public", "_row": "public", "id_type": "public"}
        for c in load_source(suite.source).columns:
            out[c.field] = c.sensitivity
            out[f"{c.field}_valid"] = c.sensitivity
        return out
    spec = config()["assets"][suite.asset]
    declared = {c: "public" for c in spec["public"]}
    if "public_model" in spec:
        declared |= {f.name: f.sensitivity for f in load_model()[spec["public_model"]].fields}
    return declared


def test_only_public_columns_may_be_shown():
    for suite in suites().values():
        sensitivity = _sensitivity(suite)
        for col in suite.public:
            assert sensitivity.get(col) == "public", f"{suite.name}.{col} is not public"
    rf = suites()["resident_file"].public
    assert "national_id" not in rf and "first_name" not in rf and "mobile_phone" not in rf
    assert "status" in rf and "resident_key" in rf


def test_only_error_checks_on_gated_assets_block():
    gate = set(config()["gate"])
    blocking = [(s.asset, e) for s in suites().values() for e in s.expectations if e.blocking]
    assert blocking, "the gate must block on something"
    assert all(asset in gate and e.severity == "ERROR" for asset, e in blocking)
    assert suites()["resident_file"]["residents_with_valid_id_share"].blocking
    assert not suites()["muniforce_payload_account"]["payload_account_personemail_email"].blocking   # WARN
    assert not suites()["stg_population_register"]["invalid_id_share"].blocking                     # not gated


def test_configuration_mistakes_are_refused_at_load():
    base = dict(asset="resident_file", kind="query", severity="ERROR", description="d", origin="test",
                sql="SELECT 1, 0")

    def suite(*exps, locator="resident_key"):
        return Suite("resident_file", "resident_file", locator, frozenset({"resident_key"}), tuple(exps))

    with pytest.raises(ValueError, match="not a public column"):
        _validate(suite(Expectation(name="x", samples_sql="SELECT national_id", samples_from="resident_file.national_id",
                                    **base)))
    with pytest.raises(ValueError, match="severity"):
        _validate(suite(Expectation(name="x", **{**base, "severity": "FATAL"})))
    with pytest.raises(ValueError, match="unique identifier"):
        _validate(suite(Expectation(name="x y", **base)))
    with pytest.raises(ValueError, match="locator"):
        _validate(suite(Expectation(name="x", **base), locator="national_id"))
