"""Dirt applied to whole columns of source records: each function returns the dirty column and a per-record
flag that is true only where the value actually changed (so the truth never claims dirt that is not there).

Slips inside a string (a dropped letter, ktiv variants) run in Python, but only over the few records picked.
`groups` makes dirt consistent within a group of records (one person's rows from one ministry share a spelling).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.sample_data import typos
from pipelines.sample_data.national_ids import with_one_digit_changed
from pipelines.sample_data.phones import FORMATS, written


def _picked(rng: np.random.Generator, n: int, rate: float, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(flag, pick in [0, 1)) per record; with `groups`, drawn once per group and shared by its records."""
    if groups is None:
        return rng.random(n) < rate, rng.random(n)
    uniq, inverse = np.unique(groups, return_inverse=True)
    return (rng.random(len(uniq)) < rate)[inverse], rng.random(len(uniq))[inverse]


def rewrite(values: pa.Array, mask: np.ndarray, picks: np.ndarray, fn: Callable[[str, float], str]) -> tuple[pa.Array, np.ndarray]:
    """`fn(value, pick)` applied where `mask` is set; -> (column, changed flags)."""
    idx = np.flatnonzero(mask)
    changed = np.zeros(len(values), dtype=bool)
    if not len(idx):
        return values, changed
    old = values.take(pa.array(idx)).to_pylist()
    new = [fn(v, p) if v else v for v, p in zip(old, picks[idx])]
    changed[idx] = [a != b for a, b in zip(old, new)]
    return pc.replace_with_mask(values, pa.array(mask), pa.array(new, pa.string())), changed


def misspell_names(rng: np.random.Generator, first: pa.Array, last: pa.Array, letter_rate: float, ktiv_rate: float,
                   groups: np.ndarray | None = None) -> tuple[pa.Array, pa.Array, dict[str, np.ndarray]]:
    """A dropped letter and ktiv male/haser variants, each in the first or the last name (picked at random)."""
    n = len(first)
    flags = {"name_letter_dropped": np.zeros(n, dtype=bool), "name_ktiv_variant": np.zeros(n, dtype=bool)}
    for kind, rate, fn in (("name_letter_dropped", letter_rate, typos.with_letter_dropped),
                           ("name_ktiv_variant", ktiv_rate, typos.ktiv_variant)):
        hit, pick = _picked(rng, n, rate, groups)
        in_first = pick < 0.5
        # rescale the pick to [0, 1) within each half so it still chooses the position uniformly
        first, ch1 = rewrite(first, hit & in_first, pick * 2, fn)
        last, ch2 = rewrite(last, hit & ~in_first, pick * 2 - 1, fn)
        flags[kind] = ch1 | ch2
    return first, last, flags


def mistype_ids(rng: np.random.Generator, id_number: np.ndarray, israeli: np.ndarray, rate: float,
                groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One digit of an Israeli ID replaced (always detectable by the check digit); -> (numbers, flags)."""
    hit, _ = _picked(rng, len(id_number), rate, groups)
    hit &= israeli
    changed = with_one_digit_changed(rng, id_number)
    if groups is not None:   # the same wrong number on every row of the group
        _, first_of, inverse = np.unique(groups, return_index=True, return_inverse=True)
        changed = changed[first_of][inverse]
    return np.where(hit, changed, id_number), hit


def write_phones(rng: np.random.Generator, national: np.ndarray, rate: float) -> tuple[pa.Array, np.ndarray]:
    """Phones (national numbers, 0 = none) written `050-1234567`, or in another of `FORMATS` at `rate`."""
    n = len(national)
    other = rng.random(n) < rate
    style = np.where(other, rng.integers(1, len(FORMATS), n), 0)
    has = national != 0
    return written(pa.array(np.where(has, national, None), pa.int64()), style), other & has


def stray_spaces(rng: np.random.Generator, columns: list[pa.Array], rate: float) -> tuple[list[pa.Array], np.ndarray]:
    """Spaces around the value of one of `columns` (picked per record), as copy-paste leaves them."""
    n = len(columns[0])
    hit = rng.random(n) < rate
    which = rng.integers(0, len(columns), n)
    picks = rng.random(n)
    out, changed = [], np.zeros(n, dtype=bool)
    for i, values in enumerate(columns):
        values, ch = rewrite(values, hit & (which == i), picks, typos.with_stray_spaces)
        out.append(values)
        changed |= ch
    return out, changed
