"""The stand-in's data, in SQLite (one file, so a demo survives restarts), and the write rules Salesforce
applies: validation from the describe, upsert on a unique external ID matched case-insensitively, lookups
set through a parent's external ID, person-account names, soft delete, and allOrNone.

One table per object (columns = the describe's fields) plus, per external ID field, a hidden lower-cased
copy with a unique index over live rows, and `_writes`: how many times the record was written, so tests
can show that a record was written exactly once. All access is serialized by one lock.

Tenants: several authorities share the MuniForce org, their records separated by `Municipal__c`
(`SCOPE_FIELD`). A request made with an authority's session carries its code as `tenant`; on every object
that has the field it then sees only records holding its code (reads, lookups through a parent's external
ID, the records an update or delete may touch), creates records with its code (set if left out; another
code is refused, FIELD_CUSTOM_VALIDATION_EXCEPTION), and cannot take over another authority's record: an
upsert whose external ID belongs to one fails as Salesforce fails a record it cannot see (DUPLICATE_VALUE on
the unique external ID), an update or delete by Id with INSUFFICIENT_ACCESS_OR_READONLY. External IDs stay
unique org-wide, as in Salesforce. `tenant=None` is the org administrator: everything.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from connectors.muniforce.standin.catalog import MASTER_RECORD_TYPE_ID
from connectors.muniforce.standin.ids import is_valid_id, make_id
from connectors.muniforce.standin.soql import Column, Query
from connectors.muniforce.standin.validation import FieldError, output_value, validator
from pipelines.private_files import private_dir, private_file

SQL_TYPES = {"double": "REAL", "int": "INTEGER", "boolean": "INTEGER"}
READ_ONLY = {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsPersonAccount",
             "PersonContactId"}
_CHUNK = 500
SCOPE_FIELD = "Municipal__c"
RECORD_KB = 2          # Salesforce counts most records as 2 KB of data storage; a person account as 4 KB


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def xid(field: str) -> str:
    return f"_xid_{field}"


class RecordError(Exception):
    def __init__(self, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.error = {"statusCode": code, "message": message, "fields": fields or []}


class RequestError(Exception):
    """The whole request is refused (HTTP 400 with Salesforce's error array)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _record_type_info(obj: str, rid: str, developer_name: str, name: str, default: bool) -> dict:
    return {"active": True, "available": True, "defaultRecordTypeMapping": default, "developerName": developer_name,
            "master": rid == MASTER_RECORD_TYPE_ID, "name": name, "recordTypeId": rid,
            "urls": {"layout": f"/services/data/v62.0/sobjects/{obj}/describe/layouts/{rid}"}}


def _aggregate_value(col: Column, value: Any) -> Any:
    if value is None or col.agg is None:
        return output_value(col.field, value) if col.field else value
    if col.agg in ("COUNT", "COUNT_DISTINCT"):
        return int(value)
    if col.agg in ("SUM", "AVG"):
        return float(value)
    return output_value(col.field, value)


class Store:
    def __init__(self, path: Path, catalog: dict[str, dict], record_types: dict[str, list[dict]] | None = None):
        self.path = Path(path)
        private_dir(self.path.parent)
        self.catalog = catalog
        self.lock = threading.RLock()
        self.db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            private_file(p)
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.fields = {o: {f["name"]: f for f in d["fields"]} for o, d in catalog.items()}
        self.lower_names = {o: {n.lower(): n for n in fs} for o, fs in self.fields.items()}
        self.validators = {o: {n: validator(f) for n, f in fs.items() if n not in READ_ONLY}
                           for o, fs in self.fields.items()}
        self.next_row: dict[str, int] = {}
        self.usage_lock = threading.Lock()
        self.usage: dict[str, int] = {}
        self.ext_fields = {o: [n for n, f in fs.items() if f.get("externalId")] for o, fs in self.fields.items()}
        self._columns: dict[tuple, tuple] = {}
        self._required_cache: dict[tuple, tuple] = {}
        with self.lock:
            self._migrate(record_types or {})
        # record types cannot be changed through the API: read them once
        self.record_types: dict[str, set[str]] = {}
        self.person_types: set[str] = set()
        self.default_record_type: dict[str, str] = {}
        if "RecordType" in self.fields:
            for rid, sobject, person, developer_name, name in self.db.execute(
                    'SELECT "Id", "SobjectType", "IsPersonType", "DeveloperName", "Name" FROM "RecordType" '
                    'WHERE "IsActive" = 1 ORDER BY _row'):
                self.record_types.setdefault(sobject, set()).add(rid)
                if person:
                    self.person_types.add(rid)
                default = any(t["developerName"] == developer_name and t["default"]
                              for t in (record_types or {}).get(sobject, []))
                if default:
                    self.default_record_type[sobject] = rid
                if sobject in self.catalog:
                    self.catalog[sobject]["recordTypeInfos"].append(
                        _record_type_info(sobject, rid, developer_name, name, default))
            for obj in self.record_types:
                if obj in self.catalog:
                    self.catalog[obj]["recordTypeInfos"].append(_record_type_info(
                        obj, MASTER_RECORD_TYPE_ID, "Master", "Master", obj not in self.default_record_type))
        self.scoped = {o for o, fs in self.fields.items() if SCOPE_FIELD in fs}

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self, record_types: dict[str, list[dict]]) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)")
        for obj, fields in self.fields.items():
            self.db.execute(f'CREATE TABLE IF NOT EXISTS "{obj}" (_row INTEGER PRIMARY KEY, "Id" TEXT UNIQUE, '
                            '"IsDeleted" INTEGER NOT NULL DEFAULT 0, _writes INTEGER NOT NULL DEFAULT 0)')
            have = {r[1] for r in self.db.execute(f'PRAGMA table_info("{obj}")')}
            for name, f in fields.items():
                if name not in have:
                    self.db.execute(f'ALTER TABLE "{obj}" ADD COLUMN "{name}" {SQL_TYPES.get(f["type"], "TEXT")}')
                if f.get("externalId") and xid(name) not in have:
                    self.db.execute(f'ALTER TABLE "{obj}" ADD COLUMN "{xid(name)}" TEXT')
                if f.get("externalId"):
                    self.db.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "ux_{obj}_{name}" ON "{obj}" ("{xid(name)}") '
                                    'WHERE "IsDeleted" = 0')
            self.next_row[obj] = (self.db.execute(f'SELECT max(_row) FROM "{obj}"').fetchone()[0] or 0) + 1
        if "RecordType" not in self.fields:
            return
        have = {(o, d) for o, d in self.db.execute('SELECT "SobjectType", "DeveloperName" FROM "RecordType"')}
        for sobject, types in record_types.items():
            for t in types:
                if (sobject, t["developerName"]) in have:
                    continue
                row = self._take_row("RecordType")
                ts = now_iso()
                self.db.execute(
                    'INSERT INTO "RecordType" (_row, "Id", "Name", "DeveloperName", "SobjectType", "IsPersonType", '
                    '"IsActive", "CreatedDate", "LastModifiedDate", "SystemModstamp") VALUES (?,?,?,?,?,?,?,?,?,?)',
                    (row, self._id("RecordType", row), t["name"], t["developerName"], sobject, int(t["person"]), 1,
                     ts, ts, ts))

    def _take_row(self, obj: str) -> int:
        row = self.next_row[obj]
        self.next_row[obj] = row + 1
        return row

    def _id(self, obj: str, row: int) -> str:
        return make_id(self.catalog[obj]["keyPrefix"], row)

    def meta(self, key: str, default: str | None = None) -> str | None:
        with self.lock:
            r = self.db.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
            return r[0] if r else default

    def meta_items(self, prefix: str) -> list[tuple[str, str]]:
        with self.lock:
            return self.db.execute("SELECT key, value FROM _meta WHERE key LIKE ? || '%'", (prefix,)).fetchall()

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.db.execute("INSERT INTO _meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (key, value))

    # -- API usage ----------------------------------------------------------------------------
    # Counted in memory (a poll must not wait for a Bulk batch holding the database) and written to the
    # database whenever it is free, and on close: a restart keeps the day's usage.
    def _usage_key(self) -> str:
        return f"api_usage:{date.today().isoformat()}"

    def api_usage(self) -> int:
        with self.usage_lock:
            key = self._usage_key()
            if key not in self.usage:
                self.usage = {key: int(self.meta(key, "0"))}
            return self.usage[key]

    def count_api_call(self, n: int = 1) -> int:
        used = self.api_usage() + n
        with self.usage_lock:
            self.usage[self._usage_key()] = used
        self.flush_usage(block=False)
        return used

    def reset_api_usage(self) -> None:
        with self.usage_lock:
            self.usage = {self._usage_key(): 0}
        self.flush_usage()

    def count_daily(self, name: str, n: int = 1) -> None:
        """A per-day counter other than API calls (Bulk batches), kept in the database."""
        key = f"{name}:{date.today().isoformat()}"
        with self.lock:
            self.set_meta(key, str(int(self.meta(key, "0")) + n))

    def daily(self, name: str) -> int:
        return int(self.meta(f"{name}:{date.today().isoformat()}", "0"))

    def data_storage_kb(self) -> int:
        """Data storage as Salesforce counts it: 2 KB a live record, 4 KB a person account (Account + Contact)."""
        with self.lock:
            kb = 0
            for obj in self.fields:
                if obj == "RecordType":
                    continue
                person = ', sum("IsPersonAccount" = 1)' if "IsPersonAccount" in self.fields[obj] else ", 0"
                n, persons = self.db.execute(f'SELECT count(*){person} FROM "{obj}" WHERE "IsDeleted" = 0').fetchone()
                kb += RECORD_KB * (n + (persons or 0))
            return kb

    def flush_usage(self, block: bool = True) -> None:
        if not self.lock.acquire(blocking=block):
            return
        try:
            with self.usage_lock:
                items = list(self.usage.items())
            for key, used in items:
                self.db.execute("INSERT INTO _meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                (key, str(used)))
        finally:
            self.lock.release()

    # -- names ----------------------------------------------------------------------------------
    def object_name(self, name: str) -> str:
        for o in self.catalog:
            if o.lower() == name.lower():
                return o
        raise RequestError("NOT_FOUND", "The requested resource does not exist", 404)

    def field_name(self, obj: str, name: str) -> str | None:
        return self.lower_names[obj].get(name.lower())

    def external_id_field(self, obj: str, name: str) -> str:
        real = self.field_name(obj, name)
        if real is None or not self.fields[obj][real].get("externalId") and real != "Id":
            raise RequestError("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}",
                               404)
        return real

    def relationship(self, obj: str, rel: str) -> tuple[str, str]:
        """(lookup field, parent object) of relationship `rel` (e.g. Account__r)."""
        for f in self.fields[obj].values():
            if (f.get("relationshipName") or "").lower() == rel.lower() and f.get("referenceTo"):
                return f["name"], f["referenceTo"][0]
        raise RequestError("INVALID_FIELD", f"No such column '{rel}' on sobject of type {obj}")

    def check_columns(self, obj: str, names: Iterable[str]) -> None:
        """Unknown fields refuse the whole request, as Salesforce does."""
        for name in names:
            if name == "attributes":
                continue
            if "." in name:
                rel, parent_field = name.split(".", 1)
                _, parent = self.relationship(obj, rel)
                real = self.field_name(parent, parent_field)
                if real is None or not self.fields[parent][real].get("externalId"):
                    raise RequestError("INVALID_FIELD", f"Field name not found : {name}")
                continue
            real = self.field_name(obj, name)
            if real is None:
                rel_field = next((f for f in self.fields[obj].values()
                                  if (f.get("relationshipName") or "").lower() == name.lower()), None)
                if rel_field is None:
                    raise RequestError("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj}")

    # -- writes ------------------------------------------------------------------------------
    def write(self, obj: str, op: str, records: list[dict], ext_field: str | None = None,
              all_or_none: bool = False, fault: Callable[[str], RecordError | None] | None = None,
              tenant: str | None = None) -> list[dict]:
        """insert | update | upsert | delete a batch; one SaveResult per record, in order.

        Records are dicts of API names (REST) or `Rel__r.Field` (Bulk); for update/delete they carry "Id".
        `fault(key)` may return a RecordError to inject (lock errors); `tenant`: see the module docstring."""
        with self.lock:
            self.db.execute("BEGIN")
            try:
                if op == "delete":
                    results = self._delete([r.get("Id") for r in records], fault, tenant)
                else:
                    results = self._save(obj, op, records, ext_field, all_or_none, fault, tenant)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return results

    def _column(self, obj: str, name: str, op: str) -> tuple:
        """How a record key is written (cached): ("rel", lookup, parent, parent field) for `Rel__r.Field` or
        `Rel__r: {...}`, ("skip",) for the Id of an update, ("field", name, validator), or ("refused", name)."""
        cached = self._columns.get((obj, name, op))
        if cached is not None:
            return cached
        if "." in name:
            rel, pfield = name.split(".", 1)
            lookup, parent = self.relationship(obj, rel)
            plan = ("rel", lookup, parent, self.field_name(parent, pfield))
        elif self.field_name(obj, name) is None and any(
                (f.get("relationshipName") or "").lower() == name.lower() for f in self.fields[obj].values()):
            lookup, parent = self.relationship(obj, name)
            plan = ("rel", lookup, parent, None)
        else:
            real = self.field_name(obj, name)
            if real == "Id" and op == "update":
                plan = ("skip",)
            elif real in READ_ONLY or real not in self.validators[obj] or self.fields[obj][real].get("autoNumber"):
                plan = ("refused", real)
            else:
                plan = ("field", real, self.validators[obj][real])
        self._columns[(obj, name, op)] = plan
        return plan

    def _save(self, obj, op, records, ext_field, all_or_none, fault, tenant) -> list[dict]:
        fields = self.fields[obj]
        n = len(records)
        clean: list[dict[str, Any]] = [{} for _ in range(n)]
        refs: list[dict[str, tuple[str, str, str]]] = [{} for _ in range(n)]  # lookup -> (parent, ext field, value)
        errors: list[dict | None] = [None] * n
        record_types = self.record_types.get(obj, set())
        for i, rec in enumerate(records):
            row = clean[i]
            try:
                for name, value in rec.items():
                    if name == "attributes":
                        continue
                    plan = self._column(obj, name, op)
                    kind = plan[0]
                    if kind == "field":
                        try:
                            row[plan[1]] = plan[2](value)
                        except FieldError as fe:
                            raise RecordError(fe.code, fe.message, fe.fields) from None
                    elif kind == "rel":
                        _, lookup, parent, pfield = plan
                        if isinstance(value, dict):
                            pfield, value = next((self.field_name(parent, k), v) for k, v in value.items()
                                                 if k != "attributes")
                        if value is None:
                            row[lookup] = None
                        else:
                            refs[i][lookup] = (parent, pfield, str(value))
                    elif kind == "refused":
                        raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                                          f"Unable to create/update fields: {plan[1]}. Please check the security "
                                          "settings of this field and verify that it is read/write for your profile "
                                          "or permission set.", [plan[1]])
                if op == "upsert" and row.get(ext_field) is None:
                    raise RecordError("MISSING_ARGUMENT", f"{ext_field} not specified", [ext_field])
                rt = row.get("RecordTypeId")
                if rt == MASTER_RECORD_TYPE_ID and op == "insert" and record_types:
                    row["RecordTypeId"] = rt = None
                if rt is not None and rt not in record_types:
                    raise RecordError("INVALID_CROSS_REFERENCE_KEY",
                                      f"Record Type ID: this ID value isn't valid for the user: {rt}", ["RecordTypeId"])
            except RecordError as re_:
                errors[i] = re_.error
        self._resolve_refs(refs, clean, errors, tenant)

        existing: list[tuple[int, dict] | None] = [None] * n
        if op == "upsert":
            seen: dict[str, list[int]] = {}
            for i in range(n):
                if errors[i] is None:
                    seen.setdefault(str(clean[i][ext_field]).lower(), []).append(i)
            for value, idx in seen.items():
                if len(idx) > 1:
                    for i in idx:
                        errors[i] = RecordError("DUPLICATE_EXTERNAL_ID",
                                                f"Duplicate external id specified: {clean[i][ext_field]}",
                                                [ext_field]).error
            found = self._rows_by(obj, xid(ext_field), list(seen))
            for value, idx in seen.items():
                if value in found and len(idx) == 1:
                    existing[idx[0]] = found[value]
        elif op == "update":
            ids = [r.get("Id") for r in records]
            found = self._rows_by(obj, "Id", [i for i in ids if i])
            for i, rid in enumerate(ids):
                if errors[i] is None:
                    if rid in found:
                        existing[i] = found[rid]
                    else:
                        errors[i] = RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                                                []).error

        for i in range(n):
            if errors[i] is not None:
                continue
            try:
                if existing[i] is None and "RecordTypeId" not in clean[i] and obj in self.default_record_type:
                    clean[i]["RecordTypeId"] = self.default_record_type[obj]
                if tenant is not None and obj in self.scoped:
                    self._check_tenant(obj, clean[i], existing[i], tenant, ext_field)
                self._check_required(obj, clean[i], existing[i])
                if fault is not None:
                    key = str(clean[i].get(ext_field)) if ext_field else str(records[i].get("Id"))
                    injected = fault(key)
                    if injected is not None:
                        raise injected
            except RecordError as re_:
                errors[i] = re_.error

        if all_or_none and any(errors):
            return [{"success": False, "errors": [e or {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                       "message": "Record rolled back because not all records were "
                                                                  "valid and the request was using AllOrNone header",
                                                       "fields": []}]}
                    for e in errors]

        results: list[dict] = []
        inserts, updates = [], []
        ts = now_iso()
        for i in range(n):
            if errors[i] is not None:
                results.append({"success": False, "errors": [errors[i]]})
                continue
            values = clean[i]
            if existing[i] is None:
                row = self._take_row(obj)
                rid = self._id(obj, row)
                inserts.append((row, rid, values))
                results.append({"id": rid, "success": True, "errors": [], "created": True})
            else:
                row, current = existing[i]
                updates.append((row, values, current))
                results.append({"id": current["Id"], "success": True, "errors": [], "created": False})
        self._insert(obj, inserts, ts)
        self._update(obj, updates, ts)
        return results

    def _is_person(self, record_type_id: str | None) -> bool:
        return record_type_id in self.person_types

    def _required(self, obj: str, person: bool) -> tuple[str, ...]:
        """Fields a record must have: createable, not nillable, not defaulted (describe's `required`); a
        person account needs LastName instead of Name."""
        key = (obj, person)
        if key not in self._required_cache:
            fields = self.fields[obj]
            required = [n for n, f in fields.items()
                        if not f["nillable"] and f["createable"] and not f.get("defaultedOnCreate")
                        and f["type"] != "boolean" and n not in READ_ONLY]
            if obj == "Account":
                required = [n for n in required if n not in ("Name", "LastName")]
                required.append("LastName" if person and "LastName" in fields else "Name")
            self._required_cache[key] = tuple(dict.fromkeys(required))
        return self._required_cache[key]

    def _check_required(self, obj: str, values: dict, existing: tuple[int, dict] | None) -> None:
        current = existing[1] if existing else {}
        record_type = values.get("RecordTypeId", current.get("RecordTypeId"))
        if existing is None:
            missing = [n for n in self._required(obj, record_type in self.person_types) if values.get(n) is None]
        else:
            missing = [n for n in self._required(obj, record_type in self.person_types)
                       if n in values and values[n] is None]
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                              missing)

    def _check_tenant(self, obj: str, values: dict, existing: tuple[int, dict] | None, tenant: str,
                      ext_field: str | None) -> None:
        if existing is not None and existing[1].get(SCOPE_FIELD) != tenant:
            if ext_field and ext_field != "Id":
                raise RecordError("DUPLICATE_VALUE", f"duplicate value found: {ext_field} duplicates value on record "
                                                     f"with id: {existing[1]['Id']}", [ext_field])
            raise RecordError("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", [])
        if SCOPE_FIELD not in values:
            if existing is None:
                values[SCOPE_FIELD] = tenant
        elif values[SCOPE_FIELD] != tenant:
            raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION",
                              f"{SCOPE_FIELD} must be your authority's code ({tenant})", [SCOPE_FIELD])

    def visible(self, obj: str, rec: dict, tenant: str | None) -> bool:
        return tenant is None or obj not in self.scoped or rec.get(SCOPE_FIELD) == tenant

    def _resolve_refs(self, refs, clean, errors, tenant=None) -> None:
        wanted: dict[tuple[str, str], set[str]] = {}
        for i, r in enumerate(refs):
            if errors[i] is None:
                for parent, pfield, value in r.values():
                    wanted.setdefault((parent, pfield), set()).add(value.lower())
        ids = {key: self._rows_by(key[0], xid(key[1]), list(values)) for key, values in wanted.items()}
        for i, r in enumerate(refs):
            if errors[i] is not None:
                continue
            for lookup, (parent, pfield, value) in r.items():
                hit = ids[(parent, pfield)].get(value.lower())
                if hit is not None and not self.visible(parent, hit[1], tenant):
                    hit = None
                if hit is None:
                    errors[i] = RecordError("INVALID_FIELD", f"Foreign key external ID: {value} not found for field "
                                                             f"{pfield} in entity {parent}", []).error
                    break
                clean[i][lookup] = hit[1]["Id"]

    def _rows_by(self, obj: str, column: str, values: list[str], everything: bool = False) -> dict[str, tuple[int, dict]]:
        """Live rows whose `column` is one of values: {value: (row, record)}. Unless `everything`, only
        the columns writes need (Id, required fields, what a person account's Name is made of)."""
        if everything:
            select = "*"
        else:
            wanted = {"_row", "Id", column, "RecordTypeId", "FirstName", "LastName", SCOPE_FIELD,
                      *self._required(obj, True), *self._required(obj, False)}
            select = ", ".join(f'"{c}"' for c in wanted if c in self.fields[obj] or c in ("_row", column))
        out = {}
        for k in range(0, len(values), _CHUNK):
            chunk = values[k:k + _CHUNK]
            cur = self.db.execute(f'SELECT {select} FROM "{obj}" WHERE "IsDeleted" = 0 AND "{column}" IN '
                                  f'({",".join("?" * len(chunk))})', chunk)
            names = [d[0] for d in cur.description]
            for row in cur:
                rec = dict(zip(names, row))
                out[rec[column]] = (rec["_row"], rec)
        return out

    def _derived(self, obj: str, values: dict, merged: dict) -> dict:
        """Columns Salesforce computes: lower-cased external IDs, a person account's Name."""
        out = {}
        for name in self.ext_fields[obj]:
            if name in values:
                out[xid(name)] = None if values[name] is None else str(values[name]).lower()
        if obj == "Account" and {"FirstName", "LastName", "RecordTypeId"} & values.keys() \
                and self._is_person(merged.get("RecordTypeId")):
            out["Name"] = " ".join(v for v in (merged.get("FirstName"), merged.get("LastName")) if v)
            out["IsPersonAccount"] = 1
        return out

    def _insert(self, obj: str, inserts: list, ts: str) -> None:
        if not inserts:
            return
        autonumber = next((n for n, f in self.fields[obj].items() if f.get("autoNumber")), None)
        rows = []
        for row, rid, values in inserts:
            full = {**values, **self._derived(obj, values, values)}
            if autonumber:
                full[autonumber] = f"{row:07d}"
            rows.append((row, rid, full))
        columns = sorted({c for _, _, full in rows for c in full})
        sql = (f'INSERT INTO "{obj}" (_row, "Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", _writes'
               + "".join(f', "{c}"' for c in columns) + ") VALUES (" + ",".join("?" * (6 + len(columns))) + ")")
        self.db.executemany(sql, [(row, rid, ts, ts, ts, 1, *(full.get(c) for c in columns))
                                  for row, rid, full in rows])

    def _update(self, obj: str, updates: list, ts: str) -> None:
        """Only the fields a record carries change (Bulk's empty cells and fields left out of REST stay):
        rows are grouped by the set of fields they carry, one UPDATE statement per group."""
        groups: dict[tuple[str, ...], list] = {}
        for row, values, current in updates:
            full = {**values, **self._derived(obj, values, {**current, **values})}
            columns = tuple(sorted(full))
            groups.setdefault(columns, []).append((ts, ts, *(full[c] for c in columns), row))
        for columns, params in groups.items():
            sets = "".join(f', "{c}" = ?' for c in columns)
            self.db.executemany(f'UPDATE "{obj}" SET "LastModifiedDate" = ?, "SystemModstamp" = ?, '
                                f'_writes = _writes + 1{sets} WHERE _row = ?', params)

    def _delete(self, ids: list[str | None], fault, tenant: str | None = None) -> list[dict]:
        results = []
        by_prefix = {d["keyPrefix"]: o for o, d in self.catalog.items()}
        for rid in ids:
            obj = by_prefix.get((rid or "")[:3])
            if not rid or not is_valid_id(rid) or obj is None:
                results.append({"id": rid, "success": False, "errors": [
                    {"statusCode": "MALFORMED_ID", "message": f"malformed id {rid}", "fields": []}]})
                continue
            scope = f', "{SCOPE_FIELD}"' if obj in self.scoped else ", NULL"
            r = self.db.execute(f'SELECT "IsDeleted"{scope} FROM "{obj}" WHERE "Id" = ?', (rid,)).fetchone()
            if r is None:
                err = {"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id",
                       "fields": []}
            elif not self.visible(obj, {SCOPE_FIELD: r[1]}, tenant):
                err = {"statusCode": "INSUFFICIENT_ACCESS_OR_READONLY",
                       "message": "insufficient access rights on object id", "fields": []}
            elif r[0]:
                err = {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}
            else:
                injected = fault(rid) if fault else None
                err = injected.error if injected else None
            if err:
                results.append({"id": rid, "success": False, "errors": [err]})
                continue
            ts = now_iso()
            self.db.execute(f'UPDATE "{obj}" SET "IsDeleted" = 1, "LastModifiedDate" = ?, "SystemModstamp" = ?, '
                            '_writes = _writes + 1 WHERE "Id" = ?', (ts, ts, rid))
            results.append({"id": rid, "success": True, "errors": []})
        return results

    # -- reads -------------------------------------------------------------------------------
    def get(self, obj: str, column: str, value: str, api_version: str, tenant: str | None = None) -> dict | None:
        with self.lock:
            column = xid(column) if column != "Id" else "Id"
            found = self._rows_by(obj, column, [value.lower() if column != "Id" else value], everything=True)
            if not found:
                return None
            _, rec = next(iter(found.values()))
            return self.as_record(obj, rec, api_version) if self.visible(obj, rec, tenant) else None

    def retrieve(self, obj: str, ids: list[str], fields: list[str], api_version: str,
                 tenant: str | None = None) -> list[dict | None]:
        """sObject Collections retrieve: the records of `ids` in order with only `fields`; None for an Id
        that is invalid, deleted, of another object or not visible."""
        names = []
        for name in fields:
            real = self.field_name(obj, name)
            if real is None:
                raise RequestError("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj}")
            names.append(real)
        with self.lock:
            found = self._rows_by(obj, "Id", [i for i in dict.fromkeys(ids) if is_valid_id(i)], everything=True)
        out: list[dict | None] = []
        for rid in ids:
            rec = found.get(rid, (None, None))[1]
            if rec is None or not self.visible(obj, rec, tenant):
                out.append(None)
                continue
            full = self.as_record(obj, rec, api_version)
            out.append({"attributes": full["attributes"], **{n: full[n] for n in names}})
        return out

    def as_record(self, obj: str, rec: dict, api_version: str) -> dict:
        out = {"attributes": {"type": obj, "url": f"/services/data/v{api_version}/sobjects/{obj}/{rec['Id']}"}}
        for name, f in self.fields[obj].items():
            out[name] = output_value(f, rec.get(name))
        return out

    def query(self, q: Query, api_version: str) -> tuple[int, list[dict]]:
        """(totalSize, records) of a parsed SOQL query; child subqueries are read set-based, for the
        page's parents at once."""
        with self.lock:
            if q.count:
                return self.db.execute(q.sql, q.params).fetchone()[0], []
            limit = f" LIMIT {int(q.limit)}" if q.limit is not None else " LIMIT -1"
            rows = self.db.execute(f"{q.sql}{limit} OFFSET {int(q.offset)}", q.params).fetchall()
            children = {c.rel: self._children(c.query, [r[-1] for r in rows], api_version) for c in q.children}
        if q.aggregate:
            return len(rows), [{"attributes": {"type": "AggregateResult"},
                                **{c.key: _aggregate_value(c, v) for c, v in zip(q.columns, row)}} for row in rows]
        records = []
        for row in rows:
            rec = self._record(q, row, api_version)
            for rel, by_parent in children.items():
                kids = by_parent.get(row[-1])
                rec[rel] = {"totalSize": len(kids), "done": True, "records": kids} if kids else None
            records.append(rec)
        return len(records), records

    def _record(self, q: Query, row: tuple, api_version: str) -> dict:
        rec: dict = {"attributes": {"type": q.obj}}
        for col, value in zip(q.columns, row):
            if col.rel is None:
                rec[col.key] = output_value(col.field, value)
                if col.key == "Id":
                    rec["attributes"]["url"] = f"/services/data/v{api_version}/sobjects/{q.obj}/{value}"
            else:
                _, parent = self.relationship(q.obj, col.rel)
                sub = rec.setdefault(col.rel, {"attributes": {"type": parent}})
                sub[col.key] = output_value(col.field, value)
        for k, v in list(rec.items()):  # a lookup that is not set is null, not an empty parent
            if isinstance(v, dict) and k != "attributes" and \
                    all(x is None for kk, x in v.items() if kk != "attributes"):
                rec[k] = None
        return rec

    def _children(self, q: Query, parent_ids: list[str], api_version: str) -> dict[str, list[dict]]:
        """{parent Id: child records} of a subquery (its LIMIT applies per parent, as in SOQL)."""
        out: dict[str, list[dict]] = {}
        for k in range(0, len(parent_ids), _CHUNK):
            chunk = parent_ids[k:k + _CHUNK]
            sql = q.sql.replace("{ids}", ",".join("?" * len(chunk)))
            for row in self.db.execute(sql, [*q.params, *chunk]):
                kids = out.setdefault(row[-1], [])
                if q.limit is None or len(kids) < q.limit:
                    kids.append(self._record(q, row, api_version))
        return out

    def rows(self, obj: str, include_deleted: bool = False) -> list[dict]:
        """All stored rows of an object (for tests and the demo), hidden columns included."""
        with self.lock:
            cur = self.db.execute(f'SELECT * FROM "{obj}"' + ("" if include_deleted else ' WHERE "IsDeleted" = 0'))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    # -- jobs ----------------------------------------------------------------------------------
    def save_job(self, info: dict) -> None:
        self.set_meta(f"job:{info['id']}", json.dumps(info))

    def jobs(self) -> list[dict]:
        with self.lock:
            return [json.loads(v) for (v,) in self.db.execute("SELECT value FROM _meta WHERE key LIKE 'job:%'")]

    def close(self) -> None:
        self.flush_usage()
        with self.lock:
            self.db.close()
