"""National reference registries: streets (data.gov.il "רחובות בישראל") and CBS localities.

Read from a local copy (`../shared/reference` beside the project, or `TOSHAV_REFERENCE_DIR`) or from
data.gov.il's CKAN `datastore_search` API. The real data's quirks are kept as delivered and handled here:
trailing spaces, the Hebrew header row of the localities list, mirrored parentheses in visual-order names.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STREETS_RESOURCE_ID = "9ad3862c-8391-4b2f-84a4-2d4c68625f4b"
LOCALITIES_RESOURCE_ID = "5c78e9fa-c2e2-4771-93ff-7f400a12f7ba"
LOCALITY_ITSELF_STREET_CODE = 9000   # "the locality itself", places without named streets

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def reference_dir() -> Path | None:
    """Where the local copies live, or None if there are none."""
    env = os.environ.get("TOSHAV_REFERENCE_DIR")
    for candidate in ([Path(env)] if env else []) + [PROJECT_ROOT.parent / "shared" / "reference"]:
        if (candidate / "streets.csv").exists():
            return candidate
    return None


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
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["city_code", "city_name", "street_code", "street_name"])
        w.writerows((s.city_code, s.city_name, s.street_code, s.street_name) for s in streets)


@lru_cache(maxsize=4)
def load_streets(path: Path | None = None) -> tuple[Street, ...]:
    path = path or _require("streets.csv")
    with open(path, encoding="utf-8", newline="") as f:
        return tuple(
            Street(int(r["city_code"]), r["city_name"].strip(), int(r["street_code"]), r["street_name"].strip())
            for r in csv.DictReader(f)
        )


def streets_of(municipality: int, path: Path | None = None) -> list[Street]:
    """The registry streets of one municipality (CBS code), without the 'locality itself' row."""
    return [s for s in load_streets(path) if s.city_code == municipality and s.street_code != LOCALITY_ITSELF_STREET_CODE]


@lru_cache(maxsize=4)
def load_localities(path: Path | None = None) -> dict[int, dict]:
    """CBS localities by code; the Hebrew header row is skipped, names trimmed and un-mirrored."""
    path = path or _require("localities.json")
    with open(path, encoding="utf-8") as f:
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
    loc = load_localities().get(municipality) if reference_dir() else None
    return loc["name"] if loc else str(municipality)


def _require(filename: str) -> Path:
    d = reference_dir()
    if d is None:
        raise FileNotFoundError(
            f"reference file {filename} not found: set TOSHAV_REFERENCE_DIR or place ../shared/reference beside the project"
        )
    return d / filename
