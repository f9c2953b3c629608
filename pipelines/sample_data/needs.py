"""Disabilities and emergency needs of generated persons, and how each source reveals them.

Each person with needs has one or two *profiles* (a wheelchair user, a dialysis patient, a child on the autism
spectrum, ...). A profile says which ODS indicators the ministries report, which disability types and assistance
needs the disability registry lists, and which needs a Yachad operator types. Codes and Hebrew labels come from
`schemas/needs_codes.yaml`; everything is held as bit masks so 1M persons take a few vectorized passes.

The truth (`persons.parquet`) lists the codes the person's records reveal together: what a perfect pipeline
could know, before consent rules decide what it may keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from schemas.loader import load_yaml

# Age bands for prevalence and profile choice: child (<18), adult (18-64), 65-79, 80+.
AGE_BANDS = np.array([18, 65, 80])
# Share of persons with needs per age band, scaled so that `TARGET_SHARE` of the population has a profile
# (seniors alone come on top, for about 16% in all).
BAND_PREVALENCE = np.array([0.07, 0.13, 0.30, 0.50])
TARGET_SHARE = 0.145
SECOND_PROFILE_SHARE = 0.15

# profile: (weights per age band, ODS indicators, disability types, needs)
PROFILES = {
    "frail_elderly":  ((0.0, 0.02, 0.25, 0.40), ("attendance_allowance", "general_disability"), ("PHYSICAL",), ("CONSTANT_ESCORT", "ESCORT_EVACUATION")),
    "wheelchair":     ((0.03, 0.12, 0.10, 0.10), ("mobility_allowance", "wheelchair_user", "general_disability"), ("PHYSICAL",), ("WHEELCHAIR", "ESCORT_EVACUATION")),
    "bedridden":      ((0.0, 0.01, 0.04, 0.10), ("attendance_allowance", "general_disability"), ("PHYSICAL",), ("BEDRIDDEN", "ESCORT_EVACUATION", "CONSTANT_ESCORT")),
    "oxygen":         ((0.01, 0.03, 0.08, 0.08), ("oxygen_dependent",), ("MEDICAL",), ("OXYGEN",)),
    "dialysis":       ((0.005, 0.03, 0.05, 0.03), ("dialysis",), ("MEDICAL",), ("DIALYSIS",)),
    "ventilated":     ((0.03, 0.02, 0.02, 0.02), ("medical_equipment_dependent", "attendance_allowance"), ("MEDICAL", "PHYSICAL"), ("ELECTRIC_MEDICAL", "CONSTANT_ESCORT")),
    "blind":          ((0.01, 0.05, 0.06, 0.07), ("blind",), ("VISION",), ("GUIDE_DOG",)),
    "deaf":           ((0.03, 0.05, 0.04, 0.05), ("deaf",), ("HEARING",), ("SIGN_LANGUAGE",)),
    "mental":         ((0.02, 0.15, 0.04, 0.01), ("welfare_client",), ("MENTAL",), ("WELFARE_CLIENT",)),
    "dementia":       ((0.0, 0.003, 0.08, 0.15), ("attendance_allowance",), ("COGNITIVE",), ("CONSTANT_ESCORT",)),
    "intellectual":   ((0.0, 0.08, 0.01, 0.0), ("welfare_client",), ("COGNITIVE",), ("WELFARE_CLIENT", "ESCORT_EVACUATION")),
    "autism_child":   ((0.30, 0.02, 0.0, 0.0), ("disabled_child",), ("AUTISM",), ("ESCORT_EVACUATION",)),
    "disabled_child": ((0.35, 0.0, 0.0, 0.0), ("disabled_child",), ("PHYSICAL",), ("ESCORT_EVACUATION",)),
    "idf_veteran":    ((0.0, 0.08, 0.07, 0.04), ("idf_disabled_veteran",), ("PHYSICAL",), ()),
    "disability_allowance": ((0.0, 0.25, 0.10, 0.05), ("general_disability",), ("PHYSICAL",), ()),
    "welfare":        ((0.06, 0.10, 0.05, 0.03), ("welfare_client",), (), ("WELFARE_CLIENT",)),
}
# Added on top of the profiles: most elderly living alone are known to welfare as seniors alone.
SENIOR_ALONE_AGE = 70
SENIOR_ALONE_SHARE = 0.6

# Which ministry reports an indicator, and what its value looks like.
INDICATOR_MINISTRY = {
    "general_disability": "NII", "mobility_allowance": "NII", "attendance_allowance": "NII",
    "disabled_child": "NII", "deaf": "NII", "senior_alone": "WELFARE", "welfare_client": "WELFARE",
    "blind": "WELFARE", "medical_equipment_dependent": "HEALTH", "oxygen_dependent": "HEALTH",
    "dialysis": "HEALTH", "wheelchair_user": "HEALTH", "idf_disabled_veteran": "MOD_REHAB",
}
INDICATOR_VALUES = {   # indicator -> the values it takes (percentages, allowance levels); others have none
    "general_disability": tuple(str(p) for p in range(40, 101, 5)),
    "idf_disabled_veteran": tuple(str(p) for p in range(20, 101, 10)),
    "attendance_allowance": ("50", "100", "150"),
}
# Needs the disability registry's closed list of assistance needs can express (SOURCES.md).
REGISTRY_NEEDS = ("ESCORT_EVACUATION", "WHEELCHAIR", "ELECTRIC_MEDICAL", "OXYGEN", "DIALYSIS", "SIGN_LANGUAGE",
                  "GUIDE_DOG", "CONSTANT_ESCORT")


@dataclass(frozen=True)
class Codes:
    disability_types: tuple[str, ...]
    needs: tuple[str, ...]
    indicators: tuple[str, ...]
    indicator_disability_bits: np.ndarray   # per indicator
    indicator_needs_bits: np.ndarray
    registry_needs_mask: int

    def bit(self, kind: str, code: str) -> int:
        return 1 << getattr(self, kind).index(code)


@lru_cache(maxsize=1)
def codes() -> Codes:
    raw = load_yaml("needs_codes.yaml")
    dtypes = tuple(raw["disability_types"])
    needs = tuple(raw["needs"])
    indicators = tuple(raw["ods_indicators"])
    d_bits = np.array([sum(1 << dtypes.index(c) for c in raw["ods_indicators"][i].get("disability_types", []))
                       for i in indicators], dtype=np.int64)
    n_bits = np.array([sum(1 << needs.index(c) for c in raw["ods_indicators"][i].get("needs", []))
                       for i in indicators], dtype=np.int64)
    registry = sum(1 << needs.index(c) for c in REGISTRY_NEEDS)
    return Codes(dtypes, needs, indicators, d_bits, n_bits, registry)


def labels(kind: str) -> dict[str, dict]:
    """{code: {label_he, aliases, ...}} for `disability_types` or `needs`."""
    return load_yaml("needs_codes.yaml")[kind]


@dataclass(frozen=True)
class Needs:
    """Per person bit masks (over `codes()` orders)."""

    indicators: np.ndarray        # ODS indicators the ministries hold (at most 4)
    disability_types: np.ndarray  # disability types of the person's profiles
    needs: np.ndarray             # needs of the person's profiles

    @property
    def any(self) -> np.ndarray:
        return self.indicators != 0


def _profile_masks() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    c = codes()
    weights, ind, dt, nd = [], [], [], []
    for band_weights, indicators, dtypes, needs in PROFILES.values():
        weights.append(band_weights)
        ind.append(sum(1 << c.indicators.index(i) for i in indicators))
        dt.append(sum(1 << c.disability_types.index(d) for d in dtypes))
        nd.append(sum(1 << c.needs.index(n) for n in needs))
    w = np.array(weights, dtype=np.float64).T          # band x profile
    return w / w.sum(axis=1, keepdims=True), np.array(ind), np.array(dt), np.array(nd)


def assign_needs(rng: np.random.Generator, age_years: np.ndarray, alone: np.ndarray) -> Needs:
    """Profiles for about `TARGET_SHARE` of persons, far more often among the old; seniors alone on top."""
    c = codes()
    n = len(age_years)
    band = np.searchsorted(AGE_BANDS, age_years, side="right")
    prevalence = BAND_PREVALENCE[band]
    prevalence = np.minimum(prevalence * TARGET_SHARE / max(prevalence.mean(), 1e-9), 0.9)
    band_weights, p_ind, p_dt, p_nd = _profile_masks()

    def pick(mask: np.ndarray) -> np.ndarray:
        """A profile index for each selected person, by their age band."""
        u = rng.random(n)
        cum = np.cumsum(band_weights, axis=1)[band]
        chosen = (u[:, None] > cum).sum(axis=1)
        return np.where(mask, np.minimum(chosen, len(PROFILES) - 1), -1)

    first = pick(rng.random(n) < prevalence)
    second = pick((first >= 0) & (rng.random(n) < SECOND_PROFILE_SHARE))
    indicators = np.zeros(n, dtype=np.int64)
    dtypes = np.zeros(n, dtype=np.int64)
    needs = np.zeros(n, dtype=np.int64)
    for prof in (first, second):
        has = prof >= 0
        indicators[has] |= p_ind[prof[has]]
        dtypes[has] |= p_dt[prof[has]]
        needs[has] |= p_nd[prof[has]]
    senior = alone & (age_years >= SENIOR_ALONE_AGE) & (rng.random(n) < SENIOR_ALONE_SHARE)
    indicators[senior] |= c.bit("indicators", "senior_alone")
    needs[senior] |= c.bit("needs", "SENIOR_ALONE")

    # Ministries report at most 4 indicators a person here: keep the first four bits.
    kept = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    for b in range(len(c.indicators)):
        on = ((indicators >> b) & 1).astype(bool) & (count < 4)
        kept[on] |= 1 << b
        count += on
    return Needs(kept, dtypes, needs)


def indicator_codes(indicators: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(disability bits, needs bits) the ODS mapping derives from indicator bit masks."""
    c = codes()
    d = np.zeros(len(indicators), dtype=np.int64)
    nd = np.zeros(len(indicators), dtype=np.int64)
    for b in range(len(c.indicators)):
        on = ((indicators >> b) & 1).astype(bool)
        d[on] |= c.indicator_disability_bits[b]
        nd[on] |= c.indicator_needs_bits[b]
    return d, nd


def bits_to_matrix(bits: np.ndarray, width: int) -> np.ndarray:
    """(n, width) booleans of a bit-mask array."""
    return ((bits[:, None] >> np.arange(width)) & 1).astype(bool)
