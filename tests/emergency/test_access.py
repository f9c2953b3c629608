"""Roles decide which queries a caller sees and runs, and which columns come back."""

import pytest

from serving.audit import AuditLog
from serving.catalogue import load_catalogue
from serving.roles import AccessDenied, load_roles, runnable_queries
from tests.emergency.helpers import MUNI, column, keys, run

EVERYTHING = ["evacuation_assistance", "power_dependent", "alone_without_support", "yachad_not_located", "household"]


def names(role):
    return [q.name for q in runnable_queries(load_roles()[role])]


def test_roles_see_the_queries_they_are_given_and_cleared_for():
    assert names("emergency_manager") == EVERYTHING
    assert names("welfare") == ["alone_without_support", "yachad_not_located", "household"]
    # given "all", but not cleared for health data: only the address-only household view remains
    assert names("data_engineer") == ["household"]


def test_a_role_without_the_right_cannot_run_the_query_and_the_attempt_is_audited(fresh_home):
    with pytest.raises(AccessDenied):
        run(fresh_home, "evacuation_assistance", role="welfare", streets="סוקולוב")
    with pytest.raises(AccessDenied):
        run(fresh_home, "power_dependent", role="data_engineer")
    with pytest.raises(AccessDenied):
        run(fresh_home, "household", role="no_such_role", street_code=416, house_number="12")
    entries = AuditLog.of(MUNI, fresh_home).entries()
    assert [(e.role, e.query, e.outcome, e.row_count) for e in reversed(entries)] == [
        ("welfare", "evacuation_assistance", "denied", None),
        ("data_engineer", "power_dependent", "denied", None),
        ("no_such_role", "household", "denied", None),
    ]


def test_sensitive_columns_only_for_roles_cleared_for_them(home):
    manager = run(home, "household", street="ז'בוטינסקי", house_number="12")
    engineer = run(home, "household", role="data_engineer", street="ז'בוטינסקי", house_number="12")
    assert keys(engineer) == keys(manager) == ["H01", "H02", "E01"]

    sensitive = {c.name for c in load_catalogue().queries["household"].columns if c.sensitivity == "sensitive"}
    assert sensitive >= {"needs_codes", "disability_types", "mobility", "lives_alone", "yachad_status"}
    assert sensitive <= {c.name for c in manager.columns}
    assert not sensitive & {c.name for c in engineer.columns}
    assert {c.name for c in engineer.hidden_columns} == sensitive
    assert "צרכים בחירום" in manager.titles and "צרכים בחירום" not in engineer.titles
    # the values themselves: H02's medication need and E01's wheelchair are shown to the manager only
    assert column(manager, "needs_codes")[1] == "תרופות"
    assert column(manager, "mobility")[2] == "כיסא גלגלים"
    flat = {str(v) for row in engineer.rows for v in row}
    assert not flat & {"תרופות", "רפואית", "כיסא גלגלים"}


def test_hidden_columns_are_not_even_selected():
    q = load_catalogue().queries["household"]
    engineer = load_roles()["data_engineer"]
    sql, _ = load_catalogue().statement_for(q, engineer.visible_columns(q))
    final_select = sql.rsplit("SELECT", 1)[1]
    assert "needs_codes" not in final_select and "last_name" in final_select


def test_a_role_without_profile_clearance_cannot_tell_who_has_a_profile(home):
    """H01 has no emergency profile, H02 and E01 have one: nothing the engineer sees differs between them."""
    engineer = run(home, "household", role="data_engineer", street="ז'בוטינסקי", house_number="12")
    shown = {c.name for c in engineer.columns}
    assert not shown & {"has_elevator", "emergency_contact_name", "emergency_contact_phone",
                        "emergency_contact_relation", "yachad_status"}
    profile_only = [i for i, c in enumerate(engineer.columns) if c.name not in ("floor",)
                    and all(row[i] in ("", None) for row, k in zip(engineer.rows, keys(engineer)) if k == "H01")
                    and any(row[i] not in ("", None) for row, k in zip(engineer.rows, keys(engineer)) if k != "H01")]
    assert profile_only == []


def test_welfare_runs_its_own_lists(home):
    assert keys(run(home, "alone_without_support", role="welfare")) == ["A01", "A02", "A04"]


def test_runs_need_a_user_name(home):
    with pytest.raises(AccessDenied):
        run(home, "alone_without_support", user="  ")
