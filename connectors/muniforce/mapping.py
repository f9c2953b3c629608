"""The MuniForce mapping (`schemas/muniforce.yaml`) as typed objects.

Everything that must agree with Salesforce is derived from here: the payload SQL of the sync, the
`describe` answer of the stand-in, the schema-drift check and the SFDX metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from schemas import load_model
from schemas.loader import load_yaml
from schemas.model import SENSITIVITY

# Salesforce metadata type -> the `type` a describe call reports for it.
DESCRIBE_TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Phone": "phone",
    "Email": "email",
    "Date": "date",
    "DateTime": "datetime",
    "Number": "double",
    "Checkbox": "boolean",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Lookup": "reference",
}
# Lengths Salesforce gives types that have no `length` in metadata.
IMPLIED_LENGTHS = {"Phone": 40, "Email": 80, "TextArea": 255, "Picklist": 255, "Lookup": 18}
# Types Shield Platform Encryption can encrypt.
ENCRYPTABLE = {"Text", "TextArea", "LongTextArea", "Phone", "Email", "Date", "DateTime"}
ENCRYPTION_SCHEMES = {"probabilistic": "ProbabilisticEncryption",
                      "deterministic": "CaseInsensitiveDeterministicEncryption"}


FIELD_KEYS = {"type", "sql", "from", "label", "description", "standard", "required", "length", "precision", "scale",
              "values", "restricted", "external_id", "unique", "case_sensitive", "encryption", "reference_to",
              "relationship_name", "child_relationship"}
OBJECT_KEYS = {"label", "plural_label", "custom", "source", "key", "where", "external_id", "record_type", "fields",
               "name_field", "sharing_model", "description"}


@dataclass(frozen=True)
class SfField:
    name: str                 # API name as the sync writes it (IdNumber__pc for person-account fields)
    type: str                 # metadata type
    sql: str
    sources: tuple[str, ...]  # model columns behind the value
    sensitivity: str
    label: str
    description: str = ""
    standard: bool = False
    required: bool = False
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple[str, ...] | None = None
    restricted: bool = True
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    encryption: str | None = None
    reference_to: str | None = None
    relationship_name: str | None = None
    child_relationship: str | None = None

    @property
    def describe_type(self) -> str:
        return DESCRIBE_TYPES[self.type]

    @property
    def max_length(self) -> int | None:
        """Characters Salesforce accepts (counted as characters, not bytes: Hebrew is one per letter)."""
        if self.length is not None:
            return self.length
        return IMPLIED_LENGTHS.get(self.type)

    @property
    def is_person_field(self) -> bool:
        return self.name.endswith("__pc")

    @property
    def metadata_home(self) -> tuple[str, str]:
        """(object, field) where the field's metadata lives: person-account fields live on Contact as __c."""
        if self.is_person_field:
            return "Contact", self.name[: -len("__pc")] + "__c"
        return "", self.name


@dataclass(frozen=True)
class SfObject:
    name: str
    label: str
    custom: bool
    source: str
    key: str
    external_id: str
    fields: tuple[SfField, ...]
    where: str | None = None
    record_type: str | None = None
    plural_label: str | None = None
    description: str = ""
    name_field: dict | None = None
    sharing_model: str = "Private"

    def field(self, name: str) -> SfField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no mapped field {name!r}")

    @property
    def external_id_field(self) -> SfField:
        return self.field(self.external_id)


@dataclass(frozen=True)
class Deactivation:
    object: str
    status_field: str
    merged: str
    removed: str
    merged_into_field: str


@dataclass(frozen=True)
class Mapping:
    api_version: str
    objects: tuple[SfObject, ...]
    deactivation: Deactivation
    permission_set: dict

    def object(self, name: str) -> SfObject:
        for o in self.objects:
            if o.name == name:
                return o
        raise KeyError(f"the MuniForce mapping has no object {name!r}")


def wire_name(obj: SfObject, f: SfField, mapping: Mapping) -> str:
    """Name of the field in a payload: lookups are set through the parent's external ID
    (`Account__r.Resident_Key__c`), everything else by its API name."""
    if f.type == "Lookup":
        parent = mapping.object(f.reference_to)
        return f"{f.relationship_name}.{parent.external_id}"
    return f.name


def _sensitivity_of(sources: tuple[str, ...], table: str) -> str:
    model = load_model()[table]
    ranks = [SENSITIVITY.index(model[c].sensitivity) for c in sources]
    return SENSITIVITY[max(ranks)] if ranks else "public"


@lru_cache(maxsize=None)
def load_mapping() -> Mapping:
    """Reads and checks `schemas/muniforce.yaml` against the resident model."""
    return build_mapping(load_yaml("muniforce.yaml"))


def build_mapping(raw: dict) -> Mapping:
    """The mapping from its YAML content; raises ValueError naming the object and field that is wrong."""
    model = load_model()
    objects = []
    for oname, ospec in raw["objects"].items():
        if ospec["source"] not in model:
            raise ValueError(f"muniforce.yaml: {oname} reads unknown model table {ospec['source']!r}")
        table = model[ospec["source"]]
        if set(ospec) - OBJECT_KEYS:
            raise ValueError(f"muniforce.yaml: {oname} has unknown keys {sorted(set(ospec) - OBJECT_KEYS)}")
        fields = []
        for fname, fs in ospec["fields"].items():
            if set(fs) - FIELD_KEYS:  # e.g. an unquoted comma in a flow mapping splits a description
                raise ValueError(f"muniforce.yaml: {oname}.{fname} has unknown keys {sorted(set(fs) - FIELD_KEYS)}")
            if fs["type"] not in DESCRIBE_TYPES:
                raise ValueError(f"muniforce.yaml: {oname}.{fname} has unknown type {fs['type']!r}")
            sources = tuple(fs.get("from", []))
            for col in sources:
                if col not in table.columns:
                    raise ValueError(f"muniforce.yaml: {oname}.{fname} reads unknown column {ospec['source']}.{col}")
            sensitivity = _sensitivity_of(sources, ospec["source"])
            encryption = fs.get("encryption")
            if encryption is not None and encryption not in ENCRYPTION_SCHEMES:
                raise ValueError(f"muniforce.yaml: {oname}.{fname} has unknown encryption {encryption!r}")
            if sensitivity == "sensitive" and not encryption:
                raise ValueError(f"muniforce.yaml: {oname}.{fname} holds sensitive data and must be Shield-encrypted")
            if encryption and fs["type"] not in ENCRYPTABLE:
                raise ValueError(f"muniforce.yaml: {oname}.{fname} is a {fs['type']}, which Shield cannot encrypt")
            fields.append(
                SfField(
                    name=fname,
                    type=fs["type"],
                    sql=str(fs["sql"]),
                    sources=sources,
                    sensitivity=sensitivity,
                    label=fs.get("label", fname),
                    description=fs.get("description", ""),
                    standard=bool(fs.get("standard", False)),
                    required=bool(fs.get("required", False)),
                    length=fs.get("length"),
                    precision=fs.get("precision"),
                    scale=fs.get("scale"),
                    values=tuple(str(v) for v in fs["values"]) if fs.get("values") else None,
                    restricted=bool(fs.get("restricted", True)),
                    external_id=bool(fs.get("external_id", False)),
                    unique=bool(fs.get("unique", False)),
                    case_sensitive=bool(fs.get("case_sensitive", False)),
                    encryption=encryption,
                    reference_to=fs.get("reference_to"),
                    relationship_name=fs.get("relationship_name"),
                    child_relationship=fs.get("child_relationship"),
                )
            )
        obj = SfObject(
            name=oname,
            label=ospec.get("label", oname),
            custom=bool(ospec.get("custom", False)),
            source=ospec["source"],
            key=ospec["key"],
            external_id=ospec["external_id"],
            fields=tuple(fields),
            where=ospec.get("where"),
            record_type=ospec.get("record_type"),
            plural_label=ospec.get("plural_label"),
            description=ospec.get("description", ""),
            name_field=ospec.get("name_field"),
            sharing_model=ospec.get("sharing_model", "Private"),
        )
        ext = obj.external_id_field
        if not (ext.external_id and ext.unique):
            raise ValueError(f"muniforce.yaml: {oname}.{ext.name} must be a unique external ID")
        objects.append(obj)
    mapping = Mapping(
        api_version=str(raw["api_version"]),
        objects=tuple(objects),
        deactivation=Deactivation(**raw["deactivation"]),
        permission_set=raw["permission_set"],
    )
    for obj in mapping.objects:
        for f in obj.fields:
            if f.type == "Lookup":
                mapping.object(f.reference_to)  # raises if the parent is not mapped
    d = mapping.deactivation
    status = mapping.object(d.object).field(d.status_field)
    missing = {d.merged, d.removed} - set(status.values or ())
    if missing:
        raise ValueError(f"muniforce.yaml: {d.object}.{d.status_field} lacks deactivation values {sorted(missing)}")
    mapping.object(d.object).field(d.merged_into_field)
    return mapping
