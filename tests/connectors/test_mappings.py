"""Source mappings load into a typed model: a mistake fails at load time naming the file and the key."""

import copy

import pytest

from schemas.loader import load_yaml
from schemas.sources import SOURCES, SourceMappingError, emergency_sources, load_source, parse_mapping


def _yachad():
    return copy.deepcopy(load_yaml("sources/yachad.yaml"))


def test_every_shipped_mapping_loads_with_its_policy_and_basis():
    assert {s: load_source(s).policy.blocks_sync for s in SOURCES} == {
        "population_register": True, "ods": False, "yachad": False, "disability_registry": False}
    assert load_source("yachad").policy.stale_after_hours == 6
    assert emergency_sources("government_emergency_system") == ["yachad"]
    assert emergency_sources("consent") == ["disability_registry"]


@pytest.mark.parametrize("change, named", [
    (lambda m: m["policy"].update(stale_after_hours="soon"), "policy.stale_after_hours"),
    (lambda m: m.pop("policy"), "policy: Field required"),
    (lambda m: m.update(emergency_basis="gossip"), "emergency_basis"),
    (lambda m: m["columns"][0].update(sensitivity="secret"), "columns.0.sensitivity"),
    (lambda m: m["columns"][0].update(heders=["x"]), "columns.0.heders"),
    (lambda m: m.update(record_key="nobody"), "record_key: 'nobody' is not one of its fields"),
    (lambda m: m.update(require_any=["first_name"]), "require_any: 'first_name' is not one of its fields"),
    (lambda m: m["emergency_report"].update(mood="status"), "emergency_report.mood"),
    (lambda m: m.pop("emergency_report"), "emergency_report: declared exactly by"),
])
def test_a_mistake_names_the_file_and_the_key(change, named):
    raw = _yachad()
    change(raw)
    with pytest.raises(SourceMappingError) as e:
        parse_mapping(raw, "sources/yachad.yaml")
    assert str(e.value).startswith("sources/yachad.yaml: ") and named in str(e.value)


def test_an_error_does_not_quote_the_value():
    raw = _yachad()
    raw["columns"][0]["required"] = "שם פרטי של מישהו"
    with pytest.raises(SourceMappingError) as e:
        parse_mapping(raw, "sources/yachad.yaml")
    assert "שם פרטי של מישהו" not in str(e.value) and "columns.0.required" in str(e.value)
