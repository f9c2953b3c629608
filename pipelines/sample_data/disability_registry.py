"""The authority's emergency database of persons with disabilities (2024 regulations): an XLSX workbook, sheet
`מאגר`, header on row 1, kept by hand by welfare staff.

So birth dates are partly real Excel date cells and partly `dd/mm/yyyy` text (a few impossible), IDs that lost
their leading zeros by being typed as numbers, house numbers and apartments stored as numbers where they look
like numbers, stray spaces and blank rows. Most persons consented; the rest are still in the sheet with `לא`.
Written with openpyxl's write-only mode and made byte-for-byte reproducible (fixed document and zip entry times).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.writer.excel import ExcelWriter

from pipelines.sample_data import date_formats, national_ids, needs as nd, record_dirt
from pipelines.sample_data.dirt import Dirt
from pipelines.sample_data.phones import draw_mobiles
from pipelines.sample_data.population import ACTIVE, Population
from pipelines.sample_data.random_streams import stream
from pipelines.sample_data.truth import SourceRecords
from schemas.sources import load_source
from pipelines.private_files import private_dir, private_file

SOURCE = "disability_registry"
SHEET = "מאגר"
YES, NO = "כן", "לא"
CONSENT_SHARE = 0.9
INFORMATION_SOURCES = ("פנייה עצמית", "רווחה", "ביטוח לאומי", "משרד הבריאות")
RELATIONS = {   # relation of the contact to the person: (male contact, female contact)
    "child": ("בן", "בת"), "sibling": ("אח", "אחות"), "neighbour": ("שכן", "שכנה"),
    "spouse": ("בן זוג", "בת זוג"), "parent": ("אב", "אם"),
}
_OUTSIDE_CONTACTS = ("child", "sibling", "neighbour")
DATE_FORMAT = "dd/mm/yyyy"
IMPOSSIBLE_DAYS = ((31, 2), (30, 2), (31, 4), (31, 6), (31, 9), (31, 11))   # (day, month) that do not exist


def _labels(bits: np.ndarray, codes: tuple[str, ...], kind: str) -> list[str]:
    """Comma-separated Hebrew labels of each bit mask (`פיזית, ראייה`); '' if none."""
    names = np.array([nd.labels(kind)[c]["label_he"] for c in codes], dtype=object)
    return [", ".join(names[row]) for row in nd.bits_to_matrix(bits, len(codes))]


def _number_or_text(values: list[str | None]) -> list:
    """What Excel makes of typed values: `12` -> 12, `12א` stays text, '' -> an empty cell."""
    return [int(v) if v and v.isdigit() else (v or None) for v in values]


def _dates(values: np.ndarray) -> list[dt.date | None]:
    return [None if np.isnat(v) else v.astype(dt.date) for v in values.astype("datetime64[D]")]


def _contacts(rng: np.random.Generator, pop: Population, person: np.ndarray) -> tuple[list, list, list]:
    """(name, mobile national number, relation) of each person's emergency contact: another adult of the household
    where there is one (spouse, parent or grown child by age), else a relative outside it (the person's last name)
    or a neighbour."""
    n = len(person)
    age = pop.age_years
    adult = (age >= 18) & (pop.status == ACTIVE)
    first_member = np.searchsorted(pop.household, pop.household[person])
    names, phones, relations = [], [], []
    spare_mobiles = draw_mobiles(rng, n)
    relation_pick = rng.integers(0, len(_OUTSIDE_CONTACTS), n)
    first_names, last_names = pop.first_name, pop.last_name
    stranger = rng.integers(0, pop.size, n)
    for i, p in enumerate(person):
        j = first_member[i]
        mate = -1
        while j < pop.size and pop.household[j] == pop.household[p]:
            if j != p and adult[j]:
                mate = j
                break
            j += 1
        if mate >= 0:
            names.append(f"{first_names[mate].as_py()} {last_names[mate].as_py()}")
            phones.append(int(pop.mobile[mate]) or int(spare_mobiles[i]))
            kind = "parent" if age[mate] > age[p] + 15 else "child" if age[mate] < age[p] - 15 else "spouse"
            relations.append(RELATIONS[kind][0 if pop.male[mate] else 1])
        else:
            kind = _OUTSIDE_CONTACTS[relation_pick[i]]
            last = last_names[stranger[i] if kind == "neighbour" else p].as_py()
            names.append(f"{first_names[stranger[i]].as_py()} {last}")
            phones.append(int(spare_mobiles[i]))
            relations.append(RELATIONS[kind][0 if pop.male[stranger[i]] else 1])   # named after the stranger's first name
    return names, phones, relations


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed time (zipfile stamps the current time, or a temp file's mtime)."""

    def __init__(self, file, when: dt.datetime):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._when = when.timetuple()[:6]

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._when)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as f:
            self.writestr(arcname or Path(filename).name, f.read(), compress_type, compresslevel)


def _save_reproducibly(wb: Workbook, path: Path, when: dt.datetime) -> None:
    """Save with fixed document and zip entry times: same input, same bytes."""
    wb.properties.created = wb.properties.modified = when
    private_dir(path.parent)
    with _FixedTimeZip(path, when) as archive:
        ExcelWriter(wb, archive).save()
    private_file(path)


def write(pop: Population, dirt: Dirt, seed: int, path: Path) -> tuple[SourceRecords, np.ndarray]:
    """-> (truth records, consent per person: given / withdrawn / none, None outside the registry)."""
    rng = stream(seed, SOURCE)
    codes = nd.codes()
    person = rng.permutation(np.flatnonzero(pop.in_registry))
    n = len(person)
    take = pa.array(person)
    as_of = np.datetime64(pop.as_of, "D")

    # ID: mistyped, or typed in as a number (its leading zeros gone).
    id_number, typo = record_dirt.mistype_ids(rng, pop.id_number[person], pop.israeli[person], dirt.id_typo)
    id_text = national_ids.as_text(id_number).to_pylist()
    as_number = np.array([t.startswith("0") for t in id_text], dtype=bool) & (rng.random(n) < dirt.id_leading_zero_dropped)
    id_cells = [int(t) if num else t for t, num in zip(id_text, as_number)]

    first, last, name_flags = record_dirt.misspell_names(
        rng, pop.first_name.take(take), pop.last_name.take(take), dirt.name_letter_dropped, dirt.name_ktiv_variant)
    (first, last, street), spaced = record_dirt.stray_spaces(rng, [first, last, pop.street_name.take(take)],
                                                             dirt.stray_spaces)

    # Birth date: an Excel date cell, or typed as text, now and then a day that does not exist.
    birth = pop.birth_date[person]
    impossible = rng.random(n) < dirt.impossible_date
    as_text = ~impossible & (rng.random(n) < dirt.date_as_text)
    birth_text = date_formats.dmy(birth).to_pylist()
    day_month = rng.integers(0, len(IMPOSSIBLE_DAYS), n)
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    birth_cells: list = _dates(birth)
    for i in np.flatnonzero(as_text):
        birth_cells[i] = birth_text[i]
    for i in np.flatnonzero(impossible):
        d, m = IMPOSSIBLE_DAYS[day_month[i]]
        birth_cells[i] = f"{d:02d}/{m:02d}/{years[i]}"

    mobile, landline = pop.mobile[person], pop.landline[person]
    phone, phone_fmt1 = record_dirt.write_phones(rng, np.where(mobile != 0, mobile, landline), dirt.phone_format)
    phone_2, phone_fmt2 = record_dirt.write_phones(rng, np.where(mobile != 0, landline, 0), dirt.phone_format)
    contact_name, contact_mobile, relation = _contacts(rng, pop, person)
    contact_phone, phone_fmt3 = record_dirt.write_phones(rng, np.array(contact_mobile, dtype=np.int64), dirt.phone_format)

    consent = rng.random(n) < CONSENT_SHARE
    dated_refusal = ~consent & (rng.random(n) < 0.5)     # withdrew (a date) vs never consented (no date)
    consent_day = date_formats.days_before(rng, as_of, n, 10, 3 * 365)
    consent_day = np.where(consent | dated_refusal, consent_day, np.datetime64("NaT"))
    updated = np.maximum(date_formats.days_before(rng, as_of, n, 1, 2 * 365),
                         np.where(np.isnat(consent_day), np.datetime64("1900-01-01"), consent_day))
    info_source = np.where(pop.in_ods[person] & (rng.random(n) < 0.5), 2, rng.integers(0, 4, n))

    columns = {
        "national_id": id_cells,
        "first_name": first.to_pylist(),
        "last_name": last.to_pylist(),
        "birth_date": birth_cells,
        "phone": phone.to_pylist(),
        "phone_2": phone_2.to_pylist(),
        "street_name": street.to_pylist(),
        "house_number": _number_or_text(pop.house_number.take(take).to_pylist()),
        "apartment": _number_or_text(pop.apartment.take(take).to_pylist()),
        "floor": pop.floor[person].tolist(),
        "has_elevator": np.where(pop.has_elevator[person], YES, NO).tolist(),
        "disability_types": _labels(pop.needs.disability_types[person], codes.disability_types, "disability_types"),
        "assistance_needs": _labels(pop.needs.needs[person] & codes.registry_needs_mask, codes.needs, "needs"),
        "lives_alone": np.where(pop.lives_alone[person], YES, NO).tolist(),
        "has_emergency_support": np.where(pop.has_emergency_support[person], YES, NO).tolist(),
        "emergency_contact_name": contact_name,
        "emergency_contact_phone": contact_phone.to_pylist(),
        "emergency_contact_relation": relation,
        "consent": np.where(consent, YES, NO).tolist(),
        "consent_date": _dates(consent_day),
        "information_source": np.array(INFORMATION_SOURCES)[info_source].tolist(),
        "updated_at": _dates(updated),
    }
    mapping = load_source(SOURCE)
    fields = [c.field for c in mapping.columns]
    date_fields = {"birth_date", "consent_date", "updated_at"}

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.sheet_view.rightToLeft = True
    ws.append([c.headers[0] for c in mapping.columns])
    blank_before = rng.random(n) < dirt.blank_rows
    rows = np.arange(n) + 2 + np.cumsum(blank_before)
    for i in range(n):
        if blank_before[i]:
            ws.append([])
        cells = []
        for f in fields:
            value = columns[f][i]
            if f in date_fields and isinstance(value, dt.date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = DATE_FORMAT
                value = cell
            cells.append(value)
        ws.append(cells)
    _save_reproducibly(wb, path, dt.datetime.combine(pop.as_of, dt.time(8, 0)))

    consent_of = np.full(pop.size, None, dtype=object)
    consent_of[person] = np.where(consent, "given", np.where(dated_refusal, "withdrawn", "none"))
    record_key = pa.array([str(v) for v in id_cells], pa.string())
    return SourceRecords(
        SOURCE, path, row=rows, person_index=person, record_key=record_key,
        dirt={"id_typo": typo, "id_leading_zero_dropped": as_number, **name_flags, "stray_spaces": spaced,
              "date_as_text": as_text, "impossible_date": impossible,
              "phone_format": phone_fmt1 | phone_fmt2 | phone_fmt3},
    ), consent_of
