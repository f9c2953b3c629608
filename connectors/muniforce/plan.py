"""What a run must send, computed in DuckDB: desired payloads from the mapping, diffed against the state.

A run is a list of groups, sent in this order:
  1. Emergency_Profile__c delete   profiles that left the desired set (consent withdrawn, resident inactive)
  2. Account upsert                new or changed residents
  3. Account deactivate            keys that left the resident file (merge, removal)   [policy deactivate]
  4. Account delete                residents no longer active, retired keys            [policy delete]
  5. Emergency_Profile__c upsert   new or changed profiles (after their accounts exist)

Each group is a temp table (`key`, `ext` = external ID value, `sf_id`, `payload_hash`, then the payload
columns named as on the wire) and a to-do table of the keys not yet settled in this run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from connectors.muniforce.mapping import Mapping, SfField, SfObject, wire_name
from connectors.muniforce.state import STATE_TABLE

POLICIES = ("deactivate", "delete")


@dataclass
class Group:
    obj: SfObject
    op: str                  # upsert | deactivate | delete
    table: str
    todo: str
    columns: list[str]       # payload columns on the wire (empty for deletes)
    size: int = 0
    creates: int = 0         # upserts of keys Salesforce has no Id for
    duplicates: str | None = None  # temp table of keys in this group equal to another but for letter case

    @property
    def name(self) -> str:
        return f"{self.obj.name} {self.op}"


@dataclass
class Plan:
    groups: list[Group]
    desired: dict[str, int] = field(default_factory=dict)     # per object: rows in the desired set
    unchanged: dict[str, int] = field(default_factory=dict)   # per object: desired rows already in sync

    @property
    def empty(self) -> bool:
        return all(g.size == 0 for g in self.groups)


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def wire_expression(f: SfField, municipality_name: str) -> str:
    """The mapped SQL, formatted the way Salesforce takes the type (text trimmed, '' -> NULL so that
    Bulk never sees an empty cell, which it would ignore instead of clearing)."""
    expr = f.sql.replace("$municipality_name", sql_literal(municipality_name))
    if f.type == "Date":
        return f"strftime(CAST(({expr}) AS DATE), '%Y-%m-%d')"
    if f.type == "DateTime":
        return f"strftime(CAST(({expr}) AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.000Z')"
    if f.type == "Number":
        return f"CAST(({expr}) AS BIGINT)" if not f.scale else f"CAST(({expr}) AS DOUBLE)"
    return f"nullif(trim(CAST(({expr}) AS VARCHAR)), '')"


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]).fetchone()[0])


def _hash(columns: list[str], alias: str) -> str:
    return "md5(to_json(struct_pack(" + ", ".join(f'"{c}" := {alias}."{c}"' for c in columns) + ")))"


def payload_select(obj: SfObject, mapping: Mapping, municipality: int, municipality_name: str,
                   only_active: bool = False) -> tuple[str, list[str]]:
    """(SELECT of `key` and the payload columns named as on the wire for one municipality's source rows,
    the payload column names). The sync hashes and diffs it; a quality check can judge the same rows."""
    wires = [(wire_name(obj, f, mapping), wire_expression(f, municipality_name)) for f in obj.fields]
    where = [f"municipality_code = {int(municipality)}"]
    if obj.where:
        where.append(f"({obj.where})")
    if only_active and obj.source == "resident_file":
        where.append("status = 'active'")
    select = ", ".join(f'{expr} AS "{w}"' for w, expr in wires)
    sql = f"SELECT CAST({obj.key} AS VARCHAR) AS key, {select} FROM {obj.source} WHERE {' AND '.join(where)}"
    return sql, [w for w, _ in wires]


def _desired(con, obj: SfObject, mapping: Mapping, municipality: int, municipality_name: str,
             only_active: bool, name: str) -> list[str]:
    """Creates temp table `name` with the desired payload of every source row; returns the payload columns."""
    sql, columns = payload_select(obj, mapping, municipality, municipality_name, only_active)
    ext_wire = wire_name(obj, obj.external_id_field, mapping)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        WITH d AS ({sql})
        SELECT d.*, d."{ext_wire}" AS ext, {_hash(columns, 'd')} AS payload_hash FROM d
        """
    )
    return columns


def _diff(con, target: str, desired: str, plan_table: str) -> None:
    """Rows whose payload differs from what Salesforce last accepted (or that it never accepted)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {plan_table} AS
        SELECT d.*, CASE WHEN s.last_status = 'deleted' THEN NULL ELSE s.sf_id END AS sf_id
        FROM {desired} d LEFT JOIN {STATE_TABLE} s ON s.target = ? AND s.key = d.key
        WHERE s.payload_hash IS DISTINCT FROM d.payload_hash
        """,
        [target],
    )


def _leaving(con, target: str, desired: str, name: str, extra_select: str = "", extra_join: str = "") -> None:
    """State rows Salesforce may still hold whose key is no longer in the desired set."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT s.key, s.external_id AS ext, s.sf_id, s.payload_hash AS state_hash {extra_select}
        FROM {STATE_TABLE} s {extra_join}
        WHERE s.target = ? AND s.last_status <> 'deleted' AND s.key NOT IN (SELECT key FROM {desired})
        """,
        [target],
    )


def _finish(con, group: Group) -> Group:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {group.todo} AS SELECT key FROM {group.table}")
    group.size, group.creates = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE sf_id IS NULL) FROM {group.table}").fetchone()
    return group


def build_plan(con: duckdb.DuckDBPyConnection, municipality: int, mapping: Mapping, policy: str,
               municipality_name: str) -> Plan:
    if policy not in POLICIES:
        raise ValueError(f"unknown deletion policy {policy!r}, expected one of {POLICIES}")
    plan = Plan(groups=[])
    account = mapping.object(mapping.deactivation.object)
    upserts, deletes, extra = [], [], []
    for i, obj in enumerate(mapping.objects):
        desired = f"mf_desired_{i}"
        columns = _desired(con, obj, mapping, municipality, municipality_name,
                           only_active=(policy == "delete"), name=desired)
        dup = f"mf_dupkeys_{i}"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {dup} AS SELECT key FROM {desired}
                        WHERE lower(ext) IN (SELECT lower(ext) FROM {desired} GROUP BY 1 HAVING count(*) > 1)""")
        table = f"mf_plan_{i}_upsert"
        _diff(con, obj.name, desired, table)
        plan.desired[obj.name] = con.execute(f"SELECT count(*) FROM {desired}").fetchone()[0]
        group = _finish(con, Group(obj, "upsert", table, f"mf_todo_{i}_upsert", columns))
        con.execute(f"DELETE FROM {dup} WHERE key NOT IN (SELECT key FROM {table})")
        group.duplicates = dup
        upserts.append(group)
        plan.unchanged[obj.name] = plan.desired[obj.name] - group.size

        if obj.name == account.name and policy == "deactivate":
            extra.append(_deactivations(con, obj, mapping, desired, i))
        else:
            table = f"mf_plan_{i}_delete"
            _leaving(con, obj.name, desired, table)
            deletes.append(_finish(con, Group(obj, "delete", table, f"mf_todo_{i}_delete", [])))

    def parent(g: Group) -> bool:
        return g.obj.name == account.name

    plan.groups = ([g for g in deletes if not parent(g)] + [g for g in upserts if parent(g)] + extra
                   + [g for g in deletes if parent(g)] + [g for g in upserts if not parent(g)])
    return plan


def _deactivations(con, obj: SfObject, mapping: Mapping, desired: str, i: int) -> Group:
    """Keys Salesforce holds that left the resident file: a merge retired them (Merged, with the surviving
    key) or they vanished (Removed). Only the status fields are sent; the rest of the record stays."""
    d = mapping.deactivation
    ext_wire = wire_name(obj, obj.external_id_field, mapping)
    columns = [ext_wire, d.status_field, d.merged_into_field]
    if _table_exists(con, "identity_merges"):
        merges = ("(SELECT retired_key, arg_max(surviving_key, merged_at) AS surviving_key "
                  "FROM identity_merges GROUP BY retired_key)")
    else:
        merges = "(SELECT NULL::VARCHAR AS retired_key, NULL::VARCHAR AS surviving_key WHERE false)"
    leaving = f"mf_leaving_{i}"
    _leaving(con, obj.name, desired, leaving, extra_select=", m.surviving_key",
             extra_join=f"LEFT JOIN {merges} m ON m.retired_key = s.key")
    table = f"mf_plan_{i}_deactivate"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH p AS (
          SELECT key, ext, sf_id, state_hash, ext AS "{ext_wire}",
                 CASE WHEN surviving_key IS NULL THEN {sql_literal(d.removed)} ELSE {sql_literal(d.merged)} END
                   AS "{d.status_field}",
                 CAST(surviving_key AS VARCHAR) AS "{d.merged_into_field}"
          FROM {leaving})
        SELECT * EXCLUDE (state_hash) FROM (SELECT p.*, {_hash(columns, 'p')} AS payload_hash FROM p)
        WHERE state_hash IS DISTINCT FROM payload_hash
        """
    )
    return _finish(con, Group(obj, "deactivate", table, f"mf_todo_{i}_deactivate", columns))
