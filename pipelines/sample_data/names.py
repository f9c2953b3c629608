"""Hebrew first and last names at their real frequencies.

The frequency tables are the CBS-derived ones shipped in the `hebrew_names` package (`dist.<population>.<...>`,
UTF-16 TSV: name, count, ...), per population group and gender. Faker's he_IL provider is the fallback if the
package's files are missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

POPULATIONS = ("jew", "muslim", "christian", "druze", "other")

# Share of each population group among residents. A sensible default for a Jewish-majority city, and the
# mixes of a few well-known localities (CBS codes). An unknown locality gets the default.
DEFAULT_MIX = {"jew": 0.93, "other": 0.04, "muslim": 0.02, "christian": 0.01}
LOCALITY_MIX = {
    3000: {"jew": 0.61, "muslim": 0.37, "christian": 0.01, "other": 0.01},     # Jerusalem
    4000: {"jew": 0.80, "muslim": 0.06, "christian": 0.09, "druze": 0.01, "other": 0.04},  # Haifa
    5000: {"jew": 0.91, "muslim": 0.04, "christian": 0.01, "other": 0.04},     # Tel Aviv-Yafo
    634: {"muslim": 1.0},                                                      # Kafr Qasim
    7300: {"muslim": 0.69, "christian": 0.31},                                 # Nazareth
    494: {"druze": 0.97, "christian": 0.02, "muslim": 0.01},                   # Daliyat al-Karmel
}

# A name is kept if it is Hebrew letters with single spaces, geresh (') or maqaf-like dashes between them.
_NAME = re.compile(r"^[\u05d0-\u05ea]+(?:[ '\-]?[\u05d0-\u05ea]+)*'?$")


@dataclass(frozen=True)
class NameTable:
    names: np.ndarray          # unicode array
    probabilities: np.ndarray  # sums to 1

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Indices into `names`."""
        return rng.choice(len(self.names), size=n, p=self.probabilities)


def population_mix(municipality: int) -> dict[str, float]:
    return LOCALITY_MIX.get(int(municipality), DEFAULT_MIX)


def _read_table(path: Path) -> NameTable | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    names, counts = [], []
    with open(path, encoding="utf-16") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2 or not _NAME.match(parts[0]) or not parts[1].strip().isdigit():
                continue
            names.append(parts[0])
            counts.append(int(parts[1]))
    if not names:
        return None
    counts_arr = np.array(counts, dtype=np.float64)
    return NameTable(np.array(names), counts_arr / counts_arr.sum())


def _faker_table(kind: str, gender: str | None) -> NameTable:
    from faker import Faker

    fake = Faker("he_IL")
    provider = {
        ("first", "male"): "first_names_male",
        ("first", "female"): "first_names_female",
        ("last", None): "last_names",
    }[(kind, gender)]
    names = sorted({n for n in getattr(fake, provider) if _NAME.match(n)}) if hasattr(fake, provider) else []
    if not names:
        names = sorted({getattr(fake, f"{kind}_name")() for _ in range(200)})
    return NameTable(np.array(names), np.full(len(names), 1.0 / len(names)))


@lru_cache(maxsize=None)
def name_table(kind: str, population: str, gender: str | None = None) -> NameTable:
    """The frequency table of first names (`kind="first"`, per gender) or last names of a population group.

    The package has no last names for "other": they fall back to the Jewish table, then to Faker.
    """
    try:
        import hebrew_names

        base = Path(hebrew_names.__file__).parent
    except ImportError:  # pragma: no cover - the package is a declared dependency
        base = None
    if base is not None:
        filename = f"dist.{population}.{gender}.first" if kind == "first" else f"dist.{population}.last"
        table = _read_table(base / filename)
        if table is not None:
            return table
        if kind == "last" and population != "jew":
            return name_table("last", "jew")
    return _faker_table(kind, gender if kind == "first" else None)
