"""`toshav sfdx` writes valid SFDX source that covers every field the sync writes, as the mapping says."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import pytest
import simple_salesforce
from typer.testing import CliRunner

import pipelines.cli.muniforce  # noqa: F401  registers the commands
from connectors.muniforce.mapping import ENCRYPTION_SCHEMES, build_mapping, load_mapping
from pipelines.cli import app
from schemas.loader import load_yaml

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
XS = "{http://www.w3.org/2001/XMLSchema}"


def text(el: ET.Element, tag: str) -> str | None:
    found = el.find(f"m:{tag}", NS)
    return None if found is None else found.text


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("sfdx")
    result = CliRunner().invoke(app, ["sfdx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_every_written_custom_field_is_generated_as_mapped(project):
    mapping = load_mapping()
    base = project / "force-app" / "main" / "default" / "objects"
    generated = {p.relative_to(base).as_posix() for p in base.rglob("*.field-meta.xml")}
    expected = set()
    for obj in mapping.objects:
        for f in obj.fields:
            if f.standard:
                continue
            home = "Contact" if f.name.endswith("__pc") else obj.name
            name = f.name[:-4] + "__c" if f.name.endswith("__pc") else f.name
            path = f"{home}/fields/{name}.field-meta.xml"
            expected.add(path)
            root = ET.parse(base / path).getroot()
            assert root.tag == f"{{{NS['m']}}}CustomField"
            assert text(root, "fullName") == name and text(root, "type") == f.type and text(root, "label") == f.label
            assert text(root, "required") == str(f.required).lower()
            assert text(root, "externalId") == str(f.external_id).lower()
            if f.length and f.type in ("Text", "LongTextArea"):
                assert text(root, "length") == str(f.length)
            if f.unique:
                assert (text(root, "unique"), text(root, "caseSensitive")) == ("true", "false")
            if f.values:
                values = [v.find("m:fullName", NS).text for v in root.iterfind("m:valueSet/m:valueSetDefinition/m:value", NS)]
                assert values == list(f.values)
                assert text(root.find("m:valueSet", NS), "restricted") == str(f.restricted).lower()
            if f.type == "Lookup":
                assert (text(root, "referenceTo"), text(root, "relationshipName")) == ("Account", "Emergency_Profiles")
            if f.sensitivity == "sensitive":
                assert text(root, "encryptionScheme") == "ProbabilisticEncryption"
                assert text(root, "securityClassification") == "Restricted"
            elif f.encryption:
                assert text(root, "encryptionScheme") == ENCRYPTION_SCHEMES[f.encryption]
            else:
                assert text(root, "encryptionScheme") is None
    assert generated == expected
    assert "Contact/fields/IdNumber__c.field-meta.xml" in generated   # person-account field lives on Contact


def test_custom_objects_permission_set_and_project(project):
    base = project / "force-app" / "main" / "default"
    obj = ET.parse(base / "objects/Emergency_Profile__c/Emergency_Profile__c.object-meta.xml").getroot()
    assert (text(obj, "label"), text(obj, "sharingModel"), text(obj, "deploymentStatus")) == \
        ("Emergency Profile", "Private", "Deployed")
    assert text(obj.find("m:nameField", NS), "type") == "AutoNumber"
    ps = ET.parse(base / "permissionsets/Toshav_Resident_Sync.permissionset-meta.xml").getroot()
    granted = {text(fp, "field"): text(fp, "editable") for fp in ps.iterfind("m:fieldPermissions", NS)}
    mapping = load_mapping()
    custom = {f"{'Contact' if f.name.endswith('__pc') else o.name}."
              f"{f.name[:-4] + '__c' if f.name.endswith('__pc') else f.name}": f.required
              for o in mapping.objects for f in o.fields if not f.standard}
    assert set(granted) == {k for k, required in custom.items() if not required}
    assert set(granted.values()) == {"true"}
    objects = {text(op, "object") for op in ps.iterfind("m:objectPermissions", NS)}
    assert objects == {"Account", "Emergency_Profile__c"}
    sfdx = json.loads((project / "sfdx-project.json").read_text())
    assert sfdx["packageDirectories"][0]["path"] == "force-app" and sfdx["sourceApiVersion"] == mapping.api_version


def test_the_mapping_refuses_unencrypted_sensitive_data_and_unknown_keys():
    raw = json.loads(json.dumps(load_yaml("muniforce.yaml")))
    del raw["objects"]["Emergency_Profile__c"]["fields"]["Needs__c"]["encryption"]
    with pytest.raises(ValueError, match="Needs__c holds sensitive data and must be Shield-encrypted"):
        build_mapping(raw)
    raw = json.loads(json.dumps(load_yaml("muniforce.yaml")))
    raw["objects"]["Emergency_Profile__c"]["fields"]["Floor__c"]["encryption"] = "probabilistic"
    with pytest.raises(ValueError, match="Floor__c is a Number, which Shield cannot encrypt"):
        build_mapping(raw)
    raw = json.loads(json.dumps(load_yaml("muniforce.yaml")))
    raw["objects"]["Account"]["fields"]["LastName"]["valid check digit) or passport number"] = None
    with pytest.raises(ValueError, match="unknown keys"):
        build_mapping(raw)
    raw = json.loads(json.dumps(load_yaml("muniforce.yaml")))
    raw["objects"]["Account"]["fields"]["LastName"]["from"] = ["surname"]
    with pytest.raises(ValueError, match="unknown column resident_file.surname"):
        build_mapping(raw)


@lru_cache(maxsize=1)
def metadata_schema() -> tuple[dict, dict]:
    """Salesforce's Metadata API schema, from the metadata.wsdl that ships with simple-salesforce:
    ({complex type: (base, [(element, type)])}, {simple type: enumeration values})."""
    root = ET.parse(Path(simple_salesforce.__file__).parent / "metadata.wsdl").getroot()
    complex_types, simple_types = {}, {}
    for ct in root.iter(XS + "complexType"):
        ext = ct.find(f".//{XS}extension")
        base = ext.get("base").split(":")[-1] if ext is not None else None
        complex_types[ct.get("name")] = (base, [(e.get("name"), e.get("type")) for e in ct.iter(XS + "element")])
    for st in root.iter(XS + "simpleType"):
        simple_types[st.get("name")] = [e.get("value") for e in st.iter(XS + "enumeration")]
    return complex_types, simple_types


def schema_errors(el: ET.Element, type_name: str, where: str) -> list[str]:
    """Elements unknown to the type, out of the schema's sequence order, or with values outside its enums."""
    complex_types, simple_types = metadata_schema()
    sequence: list[tuple[str, str]] = []
    t = type_name
    while t:
        base, own = complex_types[t]
        sequence = own + sequence
        t = base
    order = {name: (i, typ) for i, (name, typ) in enumerate(sequence)}
    errors, last = [], -1
    for child in el:
        tag = child.tag.split("}")[-1]
        if tag not in order:
            errors.append(f"{where}: <{tag}> is not an element of {type_name}")
            continue
        i, typ = order[tag]
        if i < last:
            errors.append(f"{where}: <{tag}> out of the schema's order")
        last = i
        typ = (typ or "").split(":")[-1]
        if typ in complex_types:
            errors += schema_errors(child, typ, f"{where}/{tag}")
        elif simple_types.get(typ) and child.text not in simple_types[typ]:
            errors.append(f"{where}: <{tag}> {child.text!r} is not a {typ}")
        elif typ == "boolean" and child.text not in ("true", "false"):
            errors.append(f"{where}: <{tag}> {child.text!r} is not a boolean")
        elif typ == "int" and not (child.text or "").isdigit():
            errors.append(f"{where}: <{tag}> {child.text!r} is not an int")
    return errors


def test_every_file_is_valid_against_salesforce_metadata_schema(project):
    roots = {"field-meta.xml": "CustomField", "object-meta.xml": "CustomObject",
             "permissionset-meta.xml": "PermissionSet"}
    errors, seen = [], 0
    for path in (project / "force-app").rglob("*.xml"):
        kind = roots[path.name.split(".", 1)[1]]
        root = ET.parse(path).getroot()
        assert root.tag == f"{{{NS['m']}}}{kind}"
        errors += schema_errors(root, kind, path.name)
        seen += 1
    assert seen > 30 and errors == []
