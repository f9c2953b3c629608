"""Israeli ID numbers for generated persons: valid check digits, realistic number ranges, and their dirt.

The check digit is the Luhn-style one of the Population Authority (weights 1,2,1,2,... over the first 8 digits,
the digit sums of the products, total divisible by 10). Because the per-digit map is a bijection mod 10, changing
any one digit always breaks the check digit: a one-digit typo is always detectable.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WEIGHTS = np.array([1, 2, 1, 2, 1, 2, 1, 2], dtype=np.int64)
_POWERS = 10 ** np.arange(7, -1, -1, dtype=np.int64)          # most significant digit first

# (first birth year, ranges of the 8-digit body as (low, high, share)): older residents carry 0xxxxxxxx numbers,
# children born since the 1990s 2xxxxxxxx or 3xxxxxxxx; immigrants of any age got 3xxxxxxxx in the 1990s-2010s.
_BODY_RANGES = (
    (0,    ((300_000, 6_999_999, 0.85), (30_000_000, 34_999_999, 0.15))),
    (1955, ((1_000_000, 5_999_999, 0.80), (30_000_000, 34_999_999, 0.20))),
    (1980, ((2_000_000, 6_999_999, 0.70), (30_000_000, 34_999_999, 0.30))),
    (1995, ((20_000_000, 21_999_999, 0.60), (30_000_000, 33_999_999, 0.40))),
    (2010, ((21_000_000, 22_999_999, 0.60), (32_000_000, 34_999_999, 0.40))),
)


def check_digits(bodies: np.ndarray) -> np.ndarray:
    """Check digit of each 8-digit body (int64 array)."""
    digits = (bodies[:, None] // _POWERS) % 10
    products = digits * _WEIGHTS
    total = (products // 10 + products % 10).sum(axis=1)
    return (10 - total % 10) % 10


def draw_ids(rng: np.random.Generator, birth_years: np.ndarray) -> np.ndarray:
    """Distinct valid ID numbers (int64, 9 digits with leading zeros implied) in the ranges of each birth year."""
    n = len(birth_years)
    band = np.searchsorted([start for start, _ in _BODY_RANGES], birth_years, side="right") - 1
    bodies = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        pick = rng.random(len(todo))
        for b, (_, ranges) in enumerate(_BODY_RANGES):
            in_band = band[todo] == b
            cut = 0.0
            for low, high, share in ranges:
                sel = in_band & (pick >= cut) & (pick < cut + share)
                cut += share
                bodies[todo[sel]] = rng.integers(low, high + 1, size=int(sel.sum()))
        # keep the first holder of each body, redraw the rest
        _, first = np.unique(bodies, return_index=True)
        taken = np.zeros(n, dtype=bool)
        taken[first] = True
        todo = np.flatnonzero(~taken)
    return bodies * 10 + check_digits(bodies)


def draw_passports(rng: np.random.Generator, n: int) -> pa.Array:
    """Foreign passport numbers in the shape staging recognises as passports: one or two letters, then digits."""
    letters = np.array(list("ABCEFGHKLMNPRSTUXYZ"))
    first = letters[rng.integers(0, len(letters), n)]
    second = np.where(rng.random(n) < 0.5, letters[rng.integers(0, len(letters), n)], "")
    numbers = rng.integers(1_000_000, 99_999_999, n)
    return pc.binary_join_element_wise(pa.array(first), pa.array(second), pa.array(numbers).cast(pa.string()), "")


def as_text(numbers: np.ndarray) -> pa.Array:
    """9-digit strings with leading zeros."""
    return pc.utf8_slice_codeunits(pa.array(numbers + 1_000_000_000).cast(pa.string()), 1)


def with_one_digit_changed(rng: np.random.Generator, numbers: np.ndarray) -> np.ndarray:
    """The same numbers with one random digit replaced by a different digit (a typing error)."""
    position = rng.integers(0, 9, len(numbers))
    power = (10 ** (8 - position)).astype(np.int64)
    old = (numbers // power) % 10
    new = (old + rng.integers(1, 10, len(numbers))) % 10
    return numbers + (new - old) * power


def without_leading_zeros(text: pa.Array) -> pa.Array:
    return pc.utf8_ltrim(text, characters="0")


def with_dash(text: pa.Array) -> pa.Array:
    """`039337423` -> `03933742-3`, as Yachad exports often write it."""
    return pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, 8), pc.utf8_slice_codeunits(text, 8), "-")
