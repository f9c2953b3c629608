"""Partition keys are CBS locality codes in one written form."""

import dagster as dg
import pytest

from pipelines.defs.publishing import published
from pipelines.partitions import UnknownMunicipality, add_municipalities, municipality_key, municipality_partitions
from pipelines.resources import MunicipalityDuckDB


@pytest.mark.parametrize("given", ["70", "070", " 70", 70, "0070"])
def test_a_code_has_one_written_form(given):
    assert municipality_key(given) == "70"


@pytest.mark.parametrize("given, says", [("abc", "digits only"), ("7-0", "digits only"), ("", "digits only"),
                                         ("0", "not in the CBS localities list"),
                                         ("99999", "not in the CBS localities list")])
def test_what_is_not_a_cbs_code_is_refused_with_a_clear_message(given, says):
    with pytest.raises(UnknownMunicipality, match=says):
        municipality_key(given)


def test_adding_municipalities_writes_each_once_in_its_one_form():
    instance = dg.DagsterInstance.ephemeral()
    assert add_municipalities(instance, ["070", "6600", "70"]) == ["70", "6600"]
    assert add_municipalities(instance, [70]) == []
    assert sorted(instance.get_dynamic_partitions(municipality_partitions.name)) == ["6600", "70"]
    with pytest.raises(UnknownMunicipality):
        add_municipalities(instance, ["abc"])


def test_a_step_of_a_partition_written_otherwise_is_refused(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(municipality_partitions.name, ["070"])   # as a hand-made key could be
    result = dg.materialize([published], partition_key="070", instance=instance, raise_on_error=False,
                            resources={"duckdb": MunicipalityDuckDB(home=str(tmp_path))})
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "use '70'" in failure.event_specific_data.error.cause.message
    assert not (tmp_path / "municipalities").exists()
