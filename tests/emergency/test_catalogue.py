"""The catalogue derives sensitivity from the resident model through DuckDB's parser, and refuses query shapes
that would let a query escape the access rules."""

import pytest

from serving import lineage
from serving.catalogue import CatalogueError, load_catalogue
from schemas.model import load_model


def test_base_columns_take_the_sensitivity_of_the_model_fields_they_read():
    cols = load_catalogue().base_sensitivity["residents"]
    model = load_model()
    assert cols["needs_codes"] == model["emergency_profile"]["needs_codes"].sensitivity == "sensitive"
    assert cols["street_name"] == "personal"
    # a value only an emergency profile gives reveals who has one (health data): the profile's clearance
    assert model["emergency_profile"]["has_elevator"].sensitivity == "public"
    assert cols["has_elevator"] == cols["emergency_contact_name"] == cols["yachad_updated_at"] == "sensitive"
    assert cols["resident_key"] == "public"
    # computed columns: as sensitive as what they are computed from
    assert cols["age"] == model["resident_file"]["birth_date"].sensitivity
    assert cols["house_sort_number"] == "personal"
    # coalesce(e.floor, r.floor): the most sensitive of both
    assert cols["floor"] == "personal"


def test_a_query_needs_clearance_for_what_it_filters_on():
    cat = load_catalogue()
    address_only = "SELECT * FROM residents WHERE street_code = $street_code"
    assert cat.clearance_of(address_only) == "personal"
    assert cat.clearance_of(address_only + " AND lives_alone") == "sensitive"
    # hiding the health filter inside a function or a macro call does not hide it from the parser
    assert cat.clearance_of("SELECT * FROM residents WHERE coalesce(list_has_any(needs_codes, ['OXYGEN']), false)") \
        == "sensitive"
    assert cat.clearance_of("SELECT * FROM residents WHERE household_key IS NOT NULL") == "public"
    # sorting by a sensitive column leaks it through the order
    assert cat.clearance_of("SELECT * FROM residents WHERE household_key IS NOT NULL", ("mobility",)) == "sensitive"


def test_catalogue_clearances():
    queries = load_catalogue().queries
    assert {q.name: q.clearance for q in queries.values()} == {
        "evacuation_assistance": "sensitive", "power_dependent": "sensitive", "alone_without_support": "sensitive",
        "yachad_not_located": "sensitive", "household": "personal"}


@pytest.mark.parametrize("sql", [
    "SELECT * FROM resident_file WHERE status = 'active'",                       # around the base's rules
    "SELECT * FROM residents WHERE resident_key IN (SELECT resident_key FROM emergency_profile)",
    "SELECT last_name FROM residents",                                            # the catalogue picks columns
    "SELECT * FROM residents UNION ALL SELECT * FROM residents",
    "SELECT * FROM residents WHERE street_code = 1 ORDER BY mobility",
    "SELECT * FROM residents WHERE no_such_column = 1",
    "SELECT * FROM residents WHERE",
])
def test_query_shapes_that_are_refused(sql):
    with pytest.raises((lineage.SqlShapeError, CatalogueError)):
        load_catalogue().clearance_of(sql)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM resident_file",                                                # no * in a base
    "SELECT upper(r.last_name) FROM resident_file r",                            # computed without a name
    "SELECT r.last_name, e.mobility FROM resident_file r JOIN staging_table e ON true",
    "SELECT resident_key FROM resident_file r JOIN emergency_profile e USING (resident_key)",  # ambiguous
    "SELECT r.no_such_field FROM resident_file r",
])
def test_base_shapes_that_are_refused(sql):
    fields = {name: set(t.columns) for name, t in load_model().items()}
    with pytest.raises(lineage.SqlShapeError):
        lineage.base_columns(sql, fields)


def test_lambda_parameters_are_not_columns():
    fields = {name: set(t.columns) for name, t in load_model().items()}
    cols = lineage.base_columns(
        "SELECT list_transform(e.needs_codes, lambda n: lower(n)) AS needs FROM emergency_profile e", fields)
    assert cols.lineage["needs"] == frozenset({("emergency_profile", "needs_codes")})


def test_every_query_column_and_parameter_is_consistent():
    cat = load_catalogue()
    for q in cat.queries.values():
        assert q.columns and q.parameters
        assert {c.name for c in q.columns} <= set(cat.base_sensitivity[q.base])
        assert {p.name for p in q.parameters} <= q.bound
        assert "municipality" in q.bound
