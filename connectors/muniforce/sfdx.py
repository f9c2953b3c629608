"""`toshav sfdx --out DIR`: SFDX source-format metadata for every custom object and field the sync writes,
generated from `schemas/muniforce.yaml`, so the org's schema never drifts from the sync.

    DIR/sfdx-project.json
    DIR/force-app/main/default/objects/<Object>/<Object>.object-meta.xml        (custom objects)
    DIR/force-app/main/default/objects/<Object>/fields/<Field>.field-meta.xml   (custom fields)
    DIR/force-app/main/default/permissionsets/<Name>.permissionset-meta.xml

Deploy with `sf project deploy start --source-dir DIR/force-app`. Person-account fields (`X__pc`) are
defined on Contact as `X__c`, as Salesforce requires. Standard fields are not generated (they exist in
every org with Person Accounts enabled). Fields holding `sensitive` data carry a Shield Platform Encryption
scheme, and every field its data classification (securityClassification) from its sensitivity.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from connectors.muniforce.describe import encryption_scheme
from connectors.muniforce.mapping import Mapping, SfField, SfObject, load_mapping

NS = "http://soap.sforce.com/2006/04/metadata"
CLASSIFICATION = {"public": "Internal", "personal": "Confidential", "sensitive": "Restricted"}


def _element(root_tag: str, children: list[tuple[str, object]]) -> ET.Element:
    root = ET.Element(root_tag, xmlns=NS)
    for tag, value in children:
        _append(root, tag, value)
    return root


def _append(parent: ET.Element, tag: str, value) -> None:
    if value is None:
        return
    el = ET.SubElement(parent, tag)
    if isinstance(value, list):  # nested children
        for t, v in value:
            _append(el, t, v)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    else:
        el.text = str(value)


def _write(path: Path, root: ET.Element) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n", encoding="utf-8")
    return path


def field_home(obj: SfObject, f: SfField) -> tuple[str, str]:
    """(object, field API name) where a mapped field's metadata is deployed."""
    home_obj, home_field = f.metadata_home
    return (home_obj or obj.name), home_field


def field_xml(obj: SfObject, f: SfField) -> ET.Element:
    _, name = field_home(obj, f)
    children: list[tuple[str, object]] = [("fullName", name)]
    if f.unique and f.type == "Text":
        children.append(("caseSensitive", f.case_sensitive))
    if f.type == "Lookup":
        children.append(("deleteConstraint", "SetNull"))
    if f.description:
        children.append(("description", f.description))
    children.append(("encryptionScheme", encryption_scheme(f)))
    children.append(("externalId", f.external_id))
    if f.description:
        children.append(("inlineHelpText", f.description[:510]))
    children.append(("label", f.label))
    if f.type in ("Text", "LongTextArea"):
        children.append(("length", f.length))
    if f.type == "Number":
        children.append(("precision", f.precision))
    if f.type == "Lookup":
        children.append(("referenceTo", f.reference_to))
        children.append(("relationshipLabel", (f.child_relationship or obj.name).replace("_", " ")))
        children.append(("relationshipName", f.child_relationship))
    children.append(("required", f.required))
    if f.type == "Number":
        children.append(("scale", f.scale or 0))
    children.append(("securityClassification", CLASSIFICATION[f.sensitivity]))
    children.append(("trackTrending", False))
    children.append(("type", f.type))
    if f.unique:
        children.append(("unique", True))
    if f.type == "Picklist":
        values = [("value", [("fullName", v), ("default", False), ("label", v)]) for v in f.values or ()]
        children.append(("valueSet", [("restricted", f.restricted),
                                      ("valueSetDefinition", [("sorted", False), *values])]))
    if f.type == "LongTextArea":
        children.append(("visibleLines", 3))
    return _element("CustomField", children)


def object_xml(obj: SfObject) -> ET.Element:
    name_field = obj.name_field or {"label": f"{obj.label} Name", "display_format": None}
    nf: list[tuple[str, object]] = []
    if name_field.get("display_format"):
        nf = [("displayFormat", name_field["display_format"]), ("label", name_field["label"]), ("type", "AutoNumber")]
    else:
        nf = [("label", name_field["label"]), ("type", "Text")]
    return _element("CustomObject", [
        ("deploymentStatus", "Deployed"),
        ("description", obj.description or None),
        ("enableActivities", False),
        ("enableHistory", True),
        ("enableReports", True),
        ("label", obj.label),
        ("nameField", nf),
        ("pluralLabel", obj.plural_label or obj.label),
        ("sharingModel", obj.sharing_model),
        ("visibility", "Public"),
    ])


def permission_set_xml(mapping: Mapping) -> ET.Element:
    """Edit access to every custom field the sync writes (required fields are always accessible and may
    not be listed: deploying FLS on them fails), and the object rights the sync needs."""
    children: list[tuple[str, object]] = [("description", mapping.permission_set["description"])]
    fields = sorted({".".join(field_home(o, f)) for o in mapping.objects for f in o.fields
                     if not f.standard and not f.required})
    for name in fields:
        children.append(("fieldPermissions", [("editable", True), ("field", name), ("readable", True)]))
    children.append(("hasActivationRequired", False))
    children.append(("label", mapping.permission_set["label"]))
    for obj in sorted(mapping.objects, key=lambda o: o.name):
        children.append(("objectPermissions", [
            ("allowCreate", True), ("allowDelete", True), ("allowEdit", True), ("allowRead", True),
            ("modifyAllRecords", False), ("object", obj.name), ("viewAllRecords", False)]))
    return _element("PermissionSet", children)


def generate_sfdx(out: Path, mapping: Mapping | None = None) -> list[Path]:
    """Writes the SFDX project; returns the files written."""
    mapping = mapping or load_mapping()
    out = Path(out)
    base = out / "force-app" / "main" / "default"
    written = []
    project = {"packageDirectories": [{"path": "force-app", "default": True}],
               "name": "toshav-muniforce", "namespace": "", "sourceApiVersion": mapping.api_version}
    (out / "sfdx-project.json").parent.mkdir(parents=True, exist_ok=True)
    (out / "sfdx-project.json").write_text(json.dumps(project, indent=2) + "\n", encoding="utf-8")
    written.append(out / "sfdx-project.json")
    for obj in mapping.objects:
        if obj.custom:
            written.append(_write(base / "objects" / obj.name / f"{obj.name}.object-meta.xml", object_xml(obj)))
        for f in obj.fields:
            if f.standard:
                continue
            home_obj, name = field_home(obj, f)
            written.append(_write(base / "objects" / home_obj / "fields" / f"{name}.field-meta.xml",
                                  field_xml(obj, f)))
    ps = mapping.permission_set["name"]
    written.append(_write(base / "permissionsets" / f"{ps}.permissionset-meta.xml", permission_set_xml(mapping)))
    return written
