"""One partition per municipality, keyed by CBS locality code.

Dynamic, so a data engineer onboards an authority without a code change (`toshav run` and the inbox sensor
add the partition when they first see a municipality). A key has one written form: the CBS code in digits without
leading zeros (`70`, never `070`), and only codes in the CBS localities list are accepted.
"""

from __future__ import annotations

import dagster as dg

from connectors.errors import ToshavError

municipality_partitions = dg.DynamicPartitionsDefinition(name="municipality")


class UnknownMunicipality(ToshavError, ValueError):
    """A partition key that is not a CBS locality code in its one written form."""


def municipality_key(value: int | str) -> str:
    """The partition key of a municipality: `'070'`, `70` and `' 70'` all give `'70'`; anything that is not the code
    of a locality in the CBS list is refused."""
    from connectors.reference import load_localities

    text = str(value).strip()
    if not text.isdigit():
        raise UnknownMunicipality(f"municipality {text!r} is not a CBS locality code (digits only, e.g. 70 or 6600)")
    code = int(text)
    if code == 0 or code not in load_localities():
        raise UnknownMunicipality(f"municipality {code} is not in the CBS localities list")
    return str(code)


def add_municipalities(instance: dg.DagsterInstance, values) -> list[str]:
    """Check the keys and add those the instance does not know yet; returns the keys added."""
    keys = sorted({municipality_key(v) for v in values}, key=int)
    known = set(instance.get_dynamic_partitions(municipality_partitions.name))
    new = [k for k in keys if k not in known]
    if new:
        instance.add_dynamic_partitions(municipality_partitions.name, new)
    return new


def municipality_of(context) -> int:
    """The municipality of a partitioned step; a key not in its written form (`070`) is refused, not guessed."""
    key = context.partition_key
    if municipality_key(key) != key:
        raise UnknownMunicipality(f"partition key {key!r} is not written as a CBS code: use {municipality_key(key)!r}")
    return int(key)
