"""The golden record: which source's value wins, per group of fields, as `schemas/resident_model.yaml` says.

For each resident and each survivorship group, the group's record is the one ranked first among the resident's
records that hold a value for the group: sources earlier in `prefer` first, then the freshest (`as_of`), then
a fixed order. All fields of a group come from that one record, so an address is never stitched from two
sources. Provenance keeps {source, record, as_of} of the record each group's values came from, keyed by group
name (identity, address, floor, mobile_phone, phone) and `national_id` (for national_id/id_type): since a
group's fields always come from one record, that is each field's provenance, at a fifth of the size of
repeating it per field (~1 GB less to write at a million residents). Groups without a value are left out.

Exceptions, on purpose:
- `national_id`/`id_type` are the person's valid Israeli ID when there is one (a record with a mistyped ID never
  supplies it), else a passport, else none (`Unknown`).
- `street_name` is the registry's spelling of the surviving street code, when the code is known.
- `status`: deceased (a death date, or Yachad reports נפטר), moved_out (an Israeli ID the latest population
  register no longer holds, while other sources still know the person), else active. Residents without an
  Israeli ID (passport holders, unidentified) are not expected in the register and stay active.
- Disability-registry records without consent supply no values and are not listed in `sources`: withdrawn
  consent removes the registry's contribution everywhere, not only from the emergency profile.

The winner of a group is found with one `arg_min(rec_id, rank)` per group over a single HUGEINT rank
(preference, then freshness, then rec_id): ~5x faster in DuckDB than arg_min over structs at 1M residents.
"""

from __future__ import annotations

from schemas.model import survivorship, table

# A group "has a value" on a record when one of these is not NULL (default: any field of the group).
PRESENCE = {
    "identity": ("first_name", "last_name", "birth_date"),
    "address": ("street_code", "street_name"),
}
# Records whose values may be used at all.
USABLE = "NOT (source = 'disability_registry' AND NOT coalesce(consent, false))"
# One record's provenance as JSON text, built by concatenation (to_json over structs costs ~3x more at 1M rows).
# `record` is <delivery_id>:<row>; the `deliveries` table names the file of a delivery.
PROVENANCE_SQL = ("""('{{"source":"' || {t}.source || '","record":"' || {t}.delivery_id || ':' || {t}.row """
                  """|| '","as_of":"' || coalesce(strftime({t}.as_of, '%Y-%m-%d'), '') || '"}}')""")
PROVENANCE_KEY = {"id": "national_id"}    # the ID's own pseudo-group (national_id, id_type)
# Columns of resident_file not filled from a survivorship group.
DERIVED = ("resident_key", "municipality_code", "national_id", "id_type", "household_key", "status", "sources",
           "provenance", "updated_at")


def rank_sql(prefer: list[str]) -> str:
    """One sortable number: preference position, then newest first, then rec_id (unique, so ties are fixed)."""
    cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(prefer))
    position = f"CASE source {cases} ELSE {len(prefer)} END" if prefer else "0"
    age = "(20000000000 - CAST(coalesce(epoch(as_of), 0) AS BIGINT))"
    return f"(CAST({position} AS HUGEINT) * 10::HUGEINT ** 24 + CAST({age} AS HUGEINT) * 10::HUGEINT ** 12 + rec_id)"


def golden_records_sql(municipality: int) -> str:
    """SELECT producing the resident file's rows (`household_key` NULL, no `updated_at`: the caller adds them).
    Takes the parameter `$register_delivered` (bool)."""
    groups = survivorship()
    group_fields = {n: [f for f in spec["fields"] if f not in ("national_id", "id_type")] for n, spec in groups.items()}
    group_fields["id"] = ["national_id", "id_type"]
    winners = []
    for name, spec in groups.items():
        present = " OR ".join(f"{f} IS NOT NULL" for f in PRESENCE.get(name, group_fields[name]))
        winners.append(f"arg_min(rec_id, {rank_sql(spec['prefer'])}) FILTER (WHERE {present}) AS w_{name}")
    winners.append(f"""arg_min(rec_id, CASE WHEN id_valid THEN 0 ELSE 1 END * 10::HUGEINT ** 30
                                      + {rank_sql(groups['identity']['prefer'])})
                       FILTER (WHERE id_valid OR id_type = 'Passport') AS w_id""")
    field_group = {f: g for g, fs in group_fields.items() for f in fs}
    # j: one column per (group, field) from the group's winning record, plus the group's provenance fragment.
    # (One join back and filtered aggregates: cheaper in DuckDB than one join per group.)
    j_cols = [f"any_value({f}) FILTER (WHERE rec_id = w_{g}) AS {g}__{f}" for g, fs in group_fields.items() for f in fs]
    j_cols += [f"any_value(prov) FILTER (WHERE rec_id = w_{g}) AS {g}__prov" for g in group_fields]
    columns = []
    for f in table("resident_file").columns:
        grp = field_group.get(f)
        if f == "street_name":
            columns.append("coalesce(s.street_name, j.address__street_name) AS street_name")
        elif f == "id_type":
            columns.append("coalesce(j.id__id_type, 'Unknown') AS id_type")
        elif grp:
            columns.append(f"j.{grp}__{f} AS {f}")
        elif f not in DERIVED:
            columns.append(f"NULL AS {f}")
    provenance = [f"""CASE WHEN j.{g}__prov IS NOT NULL THEN '"{PROVENANCE_KEY.get(g, g)}":' || j.{g}__prov END"""
                  for g in group_fields]
    return f"""
        WITH w AS (
            SELECT resident_key,
                   {', '.join(winners)},
                   bool_or(source = 'population_register') AS in_register,
                   bool_or(coalesce(reported_deceased, false)) AS reported_deceased,
                   list(DISTINCT source ORDER BY source) AS sources
            FROM identity_records WHERE {USABLE} GROUP BY resident_key),
        j AS (
            SELECT w.resident_key, any_value(w.in_register) AS in_register,
                   any_value(w.reported_deceased) AS reported_deceased, any_value(w.sources) AS sources,
                   {', '.join(j_cols)}
            FROM (SELECT *, {PROVENANCE_SQL.format(t='r')} AS prov FROM identity_records r WHERE {USABLE}) r
            JOIN w USING (resident_key)
            GROUP BY w.resident_key)
        SELECT j.resident_key, CAST({int(municipality)} AS INTEGER) AS municipality_code,
               {', '.join(columns)},
               NULL::VARCHAR AS household_key,
               CASE WHEN j.reported_deceased OR j.identity__death_date IS NOT NULL THEN 'deceased'
                    WHEN NOT j.in_register AND $register_delivered AND j.id__id_type = 'IsraeliID' THEN 'moved_out'
                    ELSE 'active' END AS status,
               j.sources,
               CAST('{{' || concat_ws(',', {', '.join(provenance)}) || '}}' AS JSON) AS provenance
        FROM j
        LEFT JOIN ref_streets s ON s.street_code = j.address__street_code"""
