"""The stand-in's objects and their `describe`: Salesforce's own standard fields, plus every mapped field
described from `schemas/muniforce.yaml` (the same translation the sync's drift check expects).

Record types: Account has the Person Account record type (`PersonAccount`, the one person accounts are
created with), a business account type, and every type the mapping names (`record_type`); the mapping's type
is the default one (`defaultRecordTypeMapping`), which a record created without `RecordTypeId` gets. Their Ids
are issued by the store, which fills `recordTypeInfos`. Child relationships (`childRelationships`) come
from the mapping's lookups (`child_relationship: Emergency_Profiles` -> `Emergency_Profiles__r`).

`overrides` lets a test deploy a drifted org: {"Account.PersonEmail": None} drops a field,
{"Account.PersonEmail": {"type": "string"}} changes what describe reports (and what is enforced),
{"Emergency_Profile__c": None} leaves the object out.
"""

from __future__ import annotations

import copy

from connectors.muniforce.describe import described_field
from connectors.muniforce.mapping import Mapping

KEY_PREFIXES = {"Account": "001", "Contact": "003", "RecordType": "012"}
PERSON_RECORD_TYPE = "PersonAccount"
BUSINESS_RECORD_TYPE = "Business_Account"
MASTER_RECORD_TYPE_ID = "012000000000000AAA"


def record_types(mapping: Mapping) -> dict[str, list[dict]]:
    """{object: [{developerName, name, person, default}]}: the record types the org has."""
    out: dict[str, list[dict]] = {"Account": [
        {"developerName": PERSON_RECORD_TYPE, "name": "Person Account", "person": True, "default": False},
        {"developerName": BUSINESS_RECORD_TYPE, "name": "Business Account", "person": False, "default": False}]}
    for obj in mapping.objects:
        if obj.record_type:
            types = out.setdefault(obj.name, [])
            known = next((t for t in types if t["developerName"] == obj.record_type), None)
            if known is None:
                known = {"developerName": obj.record_type, "name": obj.record_type.replace("_", " "),
                         "person": False}
                types.append(known)
            for t in types:
                t["default"] = t is known
    return out


def _std(name: str, type_: str, label: str, length: int = 0, createable: bool = False, nillable: bool = True,
         reference_to: str | None = None, relationship: str | None = None, **extra) -> dict:
    return {
        "name": name, "label": label, "type": type_, "length": length, "precision": 0, "scale": 0, "digits": 0,
        "nillable": nillable, "createable": createable, "updateable": createable,
        "defaultedOnCreate": not createable, "calculated": False, "autoNumber": False, "custom": False,
        "externalId": False, "unique": False, "caseSensitive": False, "idLookup": name == "Id", "encrypted": False,
        "picklistValues": [], "restrictedPicklist": False,
        "referenceTo": [reference_to] if reference_to else [], "relationshipName": relationship,
        "inlineHelpText": None, "soapType": "tns:ID" if type_ in ("id", "reference") else "xsd:string",
        **extra,
    }


def _system_fields() -> list[dict]:
    return [
        _std("Id", "id", "Record ID", 18, nillable=False),
        _std("IsDeleted", "boolean", "Deleted", nillable=False),
        _std("CreatedDate", "datetime", "Created Date", nillable=False),
        _std("LastModifiedDate", "datetime", "Last Modified Date", nillable=False),
        _std("SystemModstamp", "datetime", "System Modstamp", nillable=False),
    ]


def standard_fields(obj: str, custom: bool) -> list[dict]:
    fields = _system_fields()
    if obj == "Account":
        fields += [
            _std("Name", "string", "Account Name", 255, createable=True, nillable=False, defaultedOnCreate=False),
            _std("RecordTypeId", "reference", "Record Type ID", 18, createable=True, reference_to="RecordType",
                 relationship="RecordType"),
            _std("IsPersonAccount", "boolean", "Is Person Account", nillable=False),
            _std("PersonContactId", "reference", "Person Contact ID", 18, reference_to="Contact",
                 relationship="PersonContact"),
        ]
    elif obj == "RecordType":
        fields += [
            _std("Name", "string", "Name", 80, nillable=False),
            _std("DeveloperName", "string", "Record Type Name", 80, nillable=False),
            _std("SobjectType", "picklist", "SObject Type Name", 40, nillable=False),
            _std("IsPersonType", "boolean", "Is Person Type", nillable=False),
            _std("IsActive", "boolean", "Active", nillable=False),
        ]
    elif custom:
        fields.append(_std("Name", "string", "Name", 80, nillable=False, autoNumber=True))
    return fields


def build_catalog(mapping: Mapping, overrides: dict | None = None) -> dict[str, dict]:
    """{object: describe result} for every object the stand-in serves."""
    overrides = overrides or {}
    catalog = {}
    objects = [("RecordType", "Record Type", False, [])] + [
        (o.name, o.label, o.custom, [described_field(f) for f in o.fields]) for o in mapping.objects]
    children: dict[str, list[dict]] = {}
    for o in mapping.objects:
        for f in o.fields:
            if f.reference_to and f.child_relationship:
                children.setdefault(f.reference_to, []).append({
                    "cascadeDelete": False, "childSObject": o.name, "deprecatedAndHidden": False, "field": f.name,
                    "junctionIdListNames": [], "junctionReferenceTo": [],
                    "relationshipName": f"{f.child_relationship}__r", "restrictedDelete": False})
    custom_index = 0
    for name, label, custom, mapped in objects:
        if name in overrides and overrides[name] is None:
            continue  # the object is not deployed in this org
        if custom:
            prefix = "a0" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[custom_index]
            custom_index += 1
        else:
            prefix = KEY_PREFIXES[name]
        fields = standard_fields(name, custom)
        known = {f["name"] for f in fields}
        fields += [copy.deepcopy(f) for f in mapped if f["name"] not in known]
        for spec, change in overrides.items():
            oname, _, fname = spec.partition(".")
            if oname != name:
                continue
            if change is None:
                fields = [f for f in fields if f["name"] != fname]
            else:
                for f in fields:
                    if f["name"] == fname:
                        f.update(change)
        catalog[name] = {
            "name": name,
            "label": label,
            "labelPlural": label,
            "keyPrefix": prefix,
            "custom": custom,
            "createable": name != "RecordType",
            "updateable": name != "RecordType",
            "deletable": name != "RecordType",
            "queryable": True,
            "fields": fields,
            "childRelationships": copy.deepcopy(children.get(name, [])),
            "recordTypeInfos": [],
            "urls": {},
        }
    return catalog


def global_entry(described: dict, version: str) -> dict:
    """An object's entry in describeGlobal, and the `objectDescribe` of its basic information."""
    name = described["name"]
    base = f"/services/data/v{version}/sobjects/{name}"
    return {
        "activateable": False, "createable": described["createable"], "custom": described["custom"],
        "customSetting": False, "deletable": described["deletable"], "deprecatedAndHidden": False,
        "feedEnabled": False, "hasSubtypes": False, "isSubtype": False, "keyPrefix": described["keyPrefix"],
        "label": described["label"], "labelPlural": described["labelPlural"], "layoutable": True,
        "mergeable": False, "mruEnabled": True, "name": name, "queryable": described["queryable"],
        "replicateable": True, "retrieveable": True, "searchable": True, "triggerable": True,
        "undeletable": described["deletable"], "updateable": described["updateable"],
        "urls": {"rowTemplate": f"{base}/{{ID}}", "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
                 "describe": f"{base}/describe", "sobject": base},
    }
