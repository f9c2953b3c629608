"""Salesforce `describe` results for mapped fields, and the schema-drift check the sync runs before writing.

The stand-in answers `describe` with `described_field` for every mapped field, so the check compares the
org's answer with the same translation of the mapping: anything the org reports differently is drift.
"""

from __future__ import annotations

from connectors.muniforce.mapping import ENCRYPTION_SCHEMES, SfField, SfObject


class SchemaDriftError(RuntimeError):
    """The org's fields differ from the mapping: the sync stops before writing anything."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "MuniForce schema drift, nothing was written. Deploy the metadata from `toshav sfdx` "
            "or fix schemas/muniforce.yaml:\n  - " + "\n  - ".join(problems)
        )


def described_field(f: SfField) -> dict:
    """The describe entry Salesforce gives for a field deployed as the mapping says."""
    picklist = [{"value": v, "label": v, "active": True, "defaultValue": False, "validFor": None}
                for v in (f.values or ())]
    return {
        "name": f.name,
        "label": f.label,
        "type": f.describe_type,
        "length": f.max_length or 0,
        "precision": f.precision or 0,
        "scale": f.scale or 0,
        "digits": 0,
        "nillable": not f.required,
        "createable": True,
        "updateable": True,
        "defaultedOnCreate": False,
        "calculated": False,
        "autoNumber": False,
        "custom": f.name.endswith(("__c", "__pc")),
        "externalId": f.external_id,
        "unique": f.unique,
        "caseSensitive": f.case_sensitive,
        "idLookup": f.external_id,
        "encrypted": f.encryption is not None,
        "picklistValues": picklist,
        "restrictedPicklist": bool(f.values) and f.restricted,
        "referenceTo": [f.reference_to] if f.reference_to else [],
        "relationshipName": f.relationship_name,
        "inlineHelpText": f.description or None,
        "soapType": "xsd:string",
    }


def drift(described: dict | None, obj: SfObject) -> list[str]:
    """Problems that would make the sync write wrongly or fail record by record, one line each.

    `described` is the answer of `sobjects/<obj>/describe`, or None if the object does not exist.
    """
    if described is None:
        return [f"{obj.name}: object missing in the org"]
    org = {f["name"].lower(): f for f in described.get("fields", [])}
    problems = []
    for f in obj.fields:
        where = f"{obj.name}.{f.name}"
        got = org.get(f.name.lower())
        if got is None:
            problems.append(f"{where}: field missing in the org (or not visible to the sync user)")
            continue
        if got.get("type") != f.describe_type:
            problems.append(f"{where}: is {got.get('type')} in the org, the mapping writes {f.describe_type}")
            continue
        if not (got.get("createable") and got.get("updateable")):
            problems.append(f"{where}: not writable by the sync user")
        if f.max_length and f.type not in ("Lookup", "Picklist") and (got.get("length") or 0) < f.max_length:
            problems.append(f"{where}: holds {got.get('length')} characters in the org, the mapping allows {f.max_length}")
        if f.type == "Number" and ((got.get("precision") or 0) < (f.precision or 0)):
            problems.append(f"{where}: precision {got.get('precision')} in the org, the mapping needs {f.precision}")
        if f.external_id and not got.get("externalId"):
            problems.append(f"{where}: is not an external ID in the org")
        if f.reference_to and f.reference_to not in (got.get("referenceTo") or []):
            problems.append(f"{where}: refers to {got.get('referenceTo')} in the org, the mapping expects {f.reference_to}")
        if f.values and got.get("restrictedPicklist"):
            have = {p["value"] for p in got.get("picklistValues", []) if p.get("active", True)}
            lacking = [v for v in f.values if v not in have]
            if lacking:
                problems.append(f"{where}: restricted picklist lacks values {lacking}")
    return problems


def encryption_scheme(f: SfField) -> str | None:
    """Shield scheme name as SFDX metadata spells it."""
    return ENCRYPTION_SCHEMES[f.encryption] if f.encryption else None

