"""The MuniForce sync payload as a suite: derived from schemas/muniforce.yaml, judged BEFORE the sync sends it.

The sync builds its payload inside its own step (connectors/muniforce/plan.py), so there is no payload table a
check could read after it and still stop it. Instead the payload is built here the same way (the same mapping
and wire expressions, `payload_sql`) as a temporary view, and judged by checks that sit on the asset each
MuniForce object is built from - Account on resident_file, Emergency_Profile__c on emergency_profile. Those
assets are gated, so an ERROR here is blocking: the sync does not run.

Derived per mapped field: Salesforce-required fields present, text within the field's length (characters, so
Hebrew counts one per letter), restricted picklist values in the list, e-mails well formed, numbers within
precision; and per object the external ID unique case-insensitively (two records on one key would merge in
Salesforce). A few bad records would simply be rejected by Salesforce and reported by the sync; these checks
exist to stop a systematic fault (a broken mapping, a truncated delivery) before it costs a million API rows,
hence their thresholds in expectations.yaml `payload`.
"""

from __future__ import annotations

import re

import duckdb

from quality.suites import Expectation, Suite, config

EMAIL_REGEX = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def _slug(name: str) -> str:
    return re.sub(r"__(c|pc|r)$", "", name).lower().replace(".", "_")


def payload_table(object_name: str) -> str:
    return f"quality_payload_{_slug(object_name)}"


def _rule(rule: str) -> dict:
    spec = config()["payload"][rule]
    return {"severity": spec} if isinstance(spec, str) else dict(spec)


def payload_suites() -> list[Suite]:
    from connectors.muniforce.mapping import load_mapping, wire_name

    mapping = load_mapping()
    out = []
    for obj in mapping.objects:
        origin, prefix = "schemas/muniforce.yaml", f"payload_{_slug(obj.name)}"
        exps: list[Expectation] = []

        def add(name: str, kind: str, rule: str, description: str, **kw) -> None:
            r = _rule(rule)
            exps.append(Expectation(obj.source, f"{prefix}_{name}", kind, r["severity"], description=description,
                                    origin=origin, max_share=float(r.get("max_share", 0)), **kw))

        public = {"key", "ext"}
        for f in obj.fields:
            wire = wire_name(obj, f, mapping)
            if f.sensitivity == "public":
                public.add(wire)
            col = wire.replace('"', '""')
            fname = _slug(f.name)
            if f.required:
                add(f"{fname}_required", "not_null", "required", f"{obj.name}.{f.name} is required by Salesforce.",
                    column=wire)
            if f.type == "Picklist" and f.values and f.restricted:
                add(f"{fname}_in_set", "in_set", "picklist",
                    f"{obj.name}.{f.name} is a restricted picklist: {', '.join(f.values)}.", column=wire, values=f.values)
            if f.max_length and f.type != "Lookup" and not (f.type == "Picklist" and f.restricted and f.values):
                add(f"{fname}_length", "condition", "length",
                    f"{obj.name}.{f.name} fits its {f.max_length} characters (Salesforce rejects longer values).",
                    column=wire, violation=f'length("{col}") > {int(f.max_length)}')
            if f.type == "Email":
                add(f"{fname}_email", "format", "email", f"{obj.name}.{f.name} is an e-mail address Salesforce accepts.",
                    column=wire, predicate=f"regexp_full_match(\"{col}\", '{EMAIL_REGEX}')")
            if f.type == "Number" and f.precision:
                limit = 10 ** (f.precision - (f.scale or 0))
                add(f"{fname}_precision", "condition", "number",
                    f"{obj.name}.{f.name} fits precision {f.precision}, scale {f.scale or 0}.",
                    column=wire, violation=f'abs("{col}") >= {limit}')
        add("external_id_unique", "condition", "external_id_unique",
            f"{obj.name}.{obj.external_id} is unique ignoring case: two records on one key would be merged by Salesforce.",
            violation="lower(ext) IN (SELECT lower(ext) FROM {table} GROUP BY 1 HAVING count(*) > 1)")
        out.append(Suite(asset=obj.source, table=payload_table(obj.name), locator="key", public=frozenset(public),
                         expectations=tuple(exps), name=f"muniforce_payload_{_slug(obj.name)}", payload_object=obj.name))
    return out


def payload_sql(object_name: str, municipality: int) -> str:
    """The object's payload exactly as the sync selects it (`connectors.muniforce.plan.payload_select`), without
    the sync's diff hash, which a check does not need and which costs seconds at 1M rows."""
    from connectors.muniforce.mapping import load_mapping, wire_name
    from connectors.muniforce.plan import payload_select
    from connectors.reference import locality_name

    mapping = load_mapping()
    obj = mapping.object(object_name)
    select, _ = payload_select(obj, mapping, int(municipality), locality_name(int(municipality)))
    return f'SELECT *, "{wire_name(obj, obj.external_id_field, mapping)}" AS ext FROM ({select})'


def build_payload(con: duckdb.DuckDBPyConnection, suite: Suite, municipality: int) -> None:
    """The payload as a temporary view `suite.table`: measured in the same single scan as the rules."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW {suite.table} AS {payload_sql(suite.payload_object, municipality)}")
