"""sObject Collections calls (REST, up to 200 records per call, allOrNone=false) through simple-salesforce.

simple-salesforce has no helper for them: `sf.restful("composite/sobjects/...")` sends the request.
Collections answer one result per record *in request order* (Salesforce documents this; the results carry
the record Id but not the external ID), so results are matched back by position here, and by external ID
in Bulk (whose result order is not guaranteed).
"""

from __future__ import annotations

from simple_salesforce import Salesforce

from connectors.muniforce.calls import Caller

MAX_RECORDS = 200


def upsert(sf: Salesforce, call: Caller, obj: str, external_id: str, records: list[dict]) -> list[dict]:
    """Upserts up to 200 records on `external_id`; returns Salesforce's UpsertResult list."""
    body = {"allOrNone": False, "records": [{"attributes": {"type": obj}, **r} for r in records]}
    results = call(f"{obj} collections upsert",
                   lambda: sf.restful(f"composite/sobjects/{obj}/{external_id}", method="PATCH", json=body))
    if not isinstance(results, list) or len(results) != len(records):
        raise RuntimeError(f"{obj} collections upsert answered {len(results or [])} results for {len(records)} records")
    return results


def delete(sf: Salesforce, call: Caller, obj: str, ids: list[str]) -> list[dict]:
    """Deletes up to 200 records by Id; returns Salesforce's DeleteResult list (each carries its Id)."""
    results = call(f"{obj} collections delete",
                   lambda: sf.restful("composite/sobjects", method="DELETE",
                                      params={"ids": ",".join(ids), "allOrNone": "false"}))
    return results or []


def query_ids(sf: Salesforce, call: Caller, obj: str, external_id: str, values: list[str]) -> dict[str, str]:
    """{lower-cased external ID value: Id} of the records Salesforce holds for these values."""
    quoted = ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)
    soql = f"SELECT Id, {external_id} FROM {obj} WHERE {external_id} IN ({quoted})"
    result = call(f"{obj} query", lambda: sf.query_all(soql))
    return {r[external_id].lower(): r["Id"] for r in result["records"]}
