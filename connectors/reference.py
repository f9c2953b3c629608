"""National reference registries: streets (data.gov.il "רחובות בישראל") and CBS localities.

Read from the copy that ships inside the package (`connectors/reference_data/`, gzip-compressed, provenance in
its README), from a folder named by `TOSHAV_REFERENCE_DIR` (e.g. one `toshav reference` refreshed), or from
data.gov.il's CKAN `datastore_search` API. The real data's quirks are kept as delivered and handled here:
trailing spaces, the Hebrew header row of the localities list, mirrored parentheses in visual-order names.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from pipelines.private_files import private_dir

from connectors.errors import ToshavError

STREETS_RESOURCE_ID = "9ad3862c-8391-4b2f-84a4-2d4c68625f4b"
LOCALITIES_RESOURCE_ID = "5c78e9fa-c2e2-4771-93ff-7f400a12f7ba"
LOCALITY_ITSELF_STREET_CODE = 9000   # "the locality itself", places without named streets

SHIPPED_DIR = Path(__file__).resolve().parent / "reference_data"
FILENAMES = ("streets.csv", "localities.json")


class ReferenceDataMissing(ToshavError, FileNotFoundError):
    """A reference folder given by configuration lacks a registry file."""


def reference_dir() -> Path:
    """Where the registries are read from first: `TOSHAV_REFERENCE_DIR` when set, else the copy shipped in the
    package. A configured folder that does not exist is an error (a typo must not silently fall back)."""
    env = os.environ.get("TOSHAV_REFERENCE_DIR")
    if not env:
        return SHIPPED_DIR
    folder = Path(env)
    if not folder.is_dir():
        raise ReferenceDataMissing(f"TOSHAV_REFERENCE_DIR={folder} is not a folder: create it with "
                                   f"`toshav reference --out {folder}`, or unset the variable to use the shipped copy")
    return folder


@dataclass(frozen=True)
class Street:
    city_code: int
    city_name: str
    street_code: int
    street_name: str

    @property
    def is_neighbourhood(self) -> bool:
        return 6500 <= self.street_code <= 6999


def _unmirror(name: str) -> str:
    """`אבו ג'ווייעד )שבט(` -> `אבו ג'ווייעד (שבט)`: parentheses of visual-order Hebrew put back."""
    opening, closing = name.find("("), name.find(")")
    if closing != -1 and (opening == -1 or closing < opening):
        return name.translate(str.maketrans("()", ")("))
    return name


# data.gov.il column names of the streets resource -> our names
CKAN_STREET_COLUMNS = {"city_code": "סמל_ישוב", "city_name": "שם_ישוב", "street_code": "סמל_רחוב", "street_name": "שם_רחוב"}


def fetch_streets(base_url: str = "https://data.gov.il", resource_id: str = STREETS_RESOURCE_ID,
                  municipality: int | None = None, **client_options) -> list[Street]:
    """The street registry from data.gov.il's CKAN API (all of it, or one municipality's)."""
    from connectors.ckan import CkanClient

    client = CkanClient(base_url, resource_id, name="data.gov.il", **client_options)
    rows = client.fetch({CKAN_STREET_COLUMNS["city_code"]: int(municipality)} if municipality is not None else None)
    c = CKAN_STREET_COLUMNS
    return [Street(int(r[c["city_code"]]), str(r[c["city_name"]]).strip(), int(r[c["street_code"]]),
                   str(r[c["street_name"]]).strip()) for r in rows]


def save_streets(streets: list[Street], path: Path) -> None:
    """Write streets in the layout of the local copy (`city_code,city_name,street_code,street_name`)."""
    private_dir(Path(path).parent)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["city_code", "city_name", "street_code", "street_name"])
        w.writerows((s.city_code, s.city_name, s.street_code, s.street_name) for s in streets)


def _open_text(path: Path):
    """A registry file as text; `.gz` copies are read as they are."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def load_streets(path: Path | None = None) -> tuple[Street, ...]:
    """The whole street registry (from `path`, or the configured/shipped copy)."""
    return _read_streets(path or reference_file("streets.csv"))


@lru_cache(maxsize=4)
def _read_streets(path: Path) -> tuple[Street, ...]:
    with _open_text(path) as f:
        return tuple(
            Street(int(r["city_code"]), r["city_name"].strip(), int(r["street_code"]), r["street_name"].strip())
            for r in csv.DictReader(f)
        )


def streets_of(municipality: int, path: Path | None = None) -> list[Street]:
    """The registry streets of one municipality (CBS code), without the 'locality itself' row."""
    return [s for s in load_streets(path) if s.city_code == municipality and s.street_code != LOCALITY_ITSELF_STREET_CODE]


def load_localities(path: Path | None = None) -> dict[int, dict]:
    """CBS localities by code; the Hebrew header row is skipped, names trimmed and un-mirrored."""
    return _read_localities(path or reference_file("localities.json"))


@lru_cache(maxsize=4)
def _read_localities(path: Path) -> dict[int, dict]:
    with _open_text(path) as f:
        rows = json.load(f)
    out = {}
    for r in rows:
        code = str(r.get("semel_yeshuv", "")).strip()
        if not code.isdigit():
            continue  # the header row
        out[int(code)] = {
            "code": int(code),
            "name": _unmirror(r["name"].strip()),
            "english_name": r.get("english_name", "").strip(),
            "district": r.get("shem_napa", "").strip(),
        }
    return out


def locality_name(municipality: int) -> str:
    """The locality's Hebrew name from the CBS list, or its code where the list does not know it."""
    loc = load_localities().get(int(municipality))
    return loc["name"] if loc else str(municipality)


def reference_file(filename: str) -> Path:
    """`filename` (plain or `.gz`): from the configured folder where it has it (`toshav reference` refreshes only
    the streets), else the shipped copy."""
    for folder in dict.fromkeys((reference_dir(), SHIPPED_DIR)):
        for candidate in (folder / filename, folder / f"{filename}.gz"):
            if candidate.exists():
                return candidate
    raise ReferenceDataMissing(f"reference file {filename} is in neither {reference_dir()} nor the shipped copy "
                               f"{SHIPPED_DIR}: the installation is incomplete")
