"""Seeded random streams: one independent stream per named part of the generator.

Each part draws from its own stream (`stream(seed, "households")`), so changing how one part draws does not shift
every value after it, and the whole output stays a pure function of the seed.
"""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def as_of_date(seed: int) -> dt.date:
    """The fixed "as-of" date of a generated data set: the day the files were exported (within 2026)."""
    return dt.date(2026, 1, 1) + dt.timedelta(days=int(stream(seed, "as_of").integers(0, 365)))


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability proportional to `weights` (Gumbel top-k), sorted.

    numpy's `choice(replace=False, p=...)` is slow for large k; this is one vectorized pass. Zero weights are
    never drawn, so k is capped at the number of positive weights.
    """
    weights = np.asarray(weights, dtype=np.float64)
    positive = weights > 0
    k = int(min(k, positive.sum()))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    keys = np.full(weights.shape, -np.inf)
    keys[positive] = np.log(weights[positive]) + rng.gumbel(size=int(positive.sum()))
    chosen = np.argpartition(-keys, k - 1)[:k]
    return np.sort(chosen)

