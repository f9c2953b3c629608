"""How dirty the generated sources are: one rate per kind of dirt real exports carry.

Record-level kinds are recorded in `truth/<muni>/records.parquet` (`dirt` lists the kinds applied to each
record, by the field names below); population-level ones (moved out, deceased, twins) show in `persons.parquet`
(`status`, `death_date`, `twin_of`). A kind is only recorded where it changed the value.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

YACHAD_ENCODINGS = ("cp1255", "utf-8-sig")


@dataclass(frozen=True)
class Dirt:
    # Identity numbers
    id_leading_zero_dropped: float = 0.35  # of IDs starting with 0: register text, disability-registry numeric cell
    id_typo: float = 0.01                  # of ODS, Yachad and disability-registry records: one digit mistyped
    id_dash: float = 0.35                  # of Yachad records with an ID: `03933742-3`
    id_missing: float = 0.04               # of Yachad records: no ID at all
    # Names (ODS, Yachad, disability registry; the population register is the reference spelling)
    name_letter_dropped: float = 0.01      # of records: a letter left out of the first or last name
    name_ktiv_variant: float = 0.03        # of records: ו/י inserted or removed (ktiv male/haser)
    name_first_last: float = 0.15          # of Yachad records: full name as `first last` instead of `last first`
    # Addresses and phones
    street_typo: float = 0.03              # of Yachad addresses: a letter dropped or two swapped in the street
    address_variant: float = 0.5           # of Yachad addresses: `רח' הרצל 12/4`, `שד' ...` instead of the tidy form
    phone_format: float = 0.5              # of written phones: a format other than `050-1234567`
    # The hand-kept disability registry
    date_as_text: float = 0.3              # of birth dates: `dd/mm/yyyy` text instead of an Excel date cell
    impossible_date: float = 0.01          # of birth dates: a day the month does not have (`31/02/1980`)
    stray_spaces: float = 0.03             # of records: spaces around a name or street
    blank_rows: float = 0.01               # of records: an empty row before it
    # Yachad duplicates
    duplicate: float = 0.03                # of tracked persons: a second record under another record id
    # Population (not record dirt, but the hard cases a pipeline must get right)
    moved_out: float = 0.02                # of households: moved out (gone from the register, stale elsewhere)
    deceased: float = 0.01                 # of persons, mostly the old: deceased (register has a death date)
    twins: float = 0.03                    # of households with 2+ children: the first two are twins
    yachad_encoding: str = "cp1255"        # or "utf-8-sig": both occur in Yachad exports

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "yachad_encoding":
                if value not in YACHAD_ENCODINGS:
                    raise ValueError(f"yachad_encoding must be one of {YACHAD_ENCODINGS}")
            elif not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"dirt rate {f.name} must be within [0, 1]")

    @classmethod
    def rate_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "yachad_encoding")

    def scaled(self, factor: float) -> "Dirt":
        """Every rate times `factor` (capped at 1); the encoding choice is kept."""
        if factor < 0:
            raise ValueError("dirt scale must not be negative")
        return replace(self, **{n: min(1.0, getattr(self, n) * factor) for n in self.rate_names()})

    @classmethod
    def clean(cls, yachad_encoding: str = "cp1255") -> "Dirt":
        """No dirt at all: every rate zero."""
        return cls(yachad_encoding=yachad_encoding).scaled(0.0)
