"""Consumers are data: loaded with errors that name the file and the key; their fields follow from the model."""

import copy

import pytest

from schemas.loader import load_yaml
from schemas.model import table
from serving.consumers import ConsumerError, load_consumers, parse_consumers


def raw():
    return copy.deepcopy(load_yaml("consumers.yaml"))


def test_fields_follow_the_models_sensitivity_classes_never_a_list():
    by_name = {c.name: c for c in load_consumers().by_client.values()}
    model = table("resident_file")
    assert by_name["statistics"].resident_fields() == [f.name for f in model.fields if f.sensitivity == "public"]
    assert by_name["property_tax"].resident_fields() == [f.name for f in model.fields if f.sensitivity != "sensitive"]
    assert by_name["welfare"].resident_fields() == model.columns
    # a consumer's named lists follow the roles' rule: only what its clearance may filter on
    assert by_name["welfare"].role.queries == {"alone_without_support", "yachad_not_located", "household"}


@pytest.mark.parametrize("change, where", [
    (lambda r: r["consumers"]["welfare"].update(clearance="secret"), "consumers.welfare has unknown clearance"),
    (lambda r: r["consumers"]["welfare"].update(queries=["no_such_list"]), "consumers.welfare names unknown queries"),
    (lambda r: r["consumers"]["statistics"].update(operations=["resident", "delete"]),
     "consumers.statistics.operations.1"),
    (lambda r: r["consumers"]["statistics"].pop("purpose"), "consumers.statistics.purpose"),
    (lambda r: r["consumers"]["statistics"].update(client_id="toshav-106"), "consumers.statistics.client_id"),
    (lambda r: r["consumers"]["statistics"].update(queries=["household"]), "consumers.statistics.queries"),
    (lambda r: r["scopes"].pop("feed"), "scopes"),
])
def test_a_broken_file_names_the_file_and_the_key(change, where):
    r = raw()
    change(r)
    with pytest.raises(ConsumerError) as e:
        parse_consumers(r)
    assert str(e.value).startswith("consumers.yaml: ") and where in str(e.value)
