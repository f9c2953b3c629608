"""Who lives together: household types, members' ages, genders, roles and marital status, and twins.

Shares follow the broad shape of Israeli urban households (CBS: ~2.9-3.3 persons a household; about one
household in five is an elderly person alone or an elderly couple).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Household kinds: (name, share). Sizes: alone 1, couples 2, families 2 + children, single parent 1 + children,
# elderly parent with an adult child 2.
KINDS = (
    ("young_alone", 0.12),
    ("elderly_alone", 0.10),
    ("couple", 0.12),
    ("elderly_couple", 0.10),
    ("family", 0.45),
    ("single_parent", 0.07),
    ("elderly_with_child", 0.04),
)
YOUNG_ALONE, ELDERLY_ALONE, COUPLE, ELDERLY_COUPLE, FAMILY, SINGLE_PARENT, ELDERLY_WITH_CHILD = range(len(KINDS))
_CHILDREN = (np.array([1, 2, 3, 4, 5, 6]), np.array([0.25, 0.30, 0.25, 0.12, 0.05, 0.03]))
_CHILDREN_SINGLE = (np.array([1, 2, 3]), np.array([0.5, 0.35, 0.15]))

# Person roles inside a household.
HEAD, SPOUSE, CHILD = 0, 1, 2

MARITAL = np.array(["single", "married", "divorced", "widowed"])
SINGLE, MARRIED, DIVORCED, WIDOWED = range(4)


@dataclass(frozen=True)
class Households:
    kind: np.ndarray            # per household
    size: np.ndarray            # per household
    start: np.ndarray           # index of the household's first person
    # per person
    household: np.ndarray
    role: np.ndarray
    age_days: np.ndarray        # age on the as-of date, in days
    male: np.ndarray
    marital: np.ndarray         # index into MARITAL
    father: np.ndarray          # person index of the father in the household, or -1
    twin_of: np.ndarray         # person index of the twin, or -1

    @property
    def persons(self) -> int:
        return len(self.household)


def _draw_sizes(rng: np.random.Generator, residents: int) -> tuple[np.ndarray, np.ndarray]:
    """Household kinds and sizes until they hold exactly `residents` persons (the last one is cut to fit)."""
    shares = np.array([s for _, s in KINDS])
    n = int(residents / 2.9 * 1.1) + 10
    kind = rng.choice(len(KINDS), n, p=shares)
    size = np.ones(n, dtype=np.int64)
    size[np.isin(kind, [COUPLE, ELDERLY_COUPLE, ELDERLY_WITH_CHILD])] = 2
    fam = kind == FAMILY
    size[fam] = 2 + rng.choice(_CHILDREN[0], int(fam.sum()), p=_CHILDREN[1])
    sp = kind == SINGLE_PARENT
    size[sp] = 1 + rng.choice(_CHILDREN_SINGLE[0], int(sp.sum()), p=_CHILDREN_SINGLE[1])
    cum = np.cumsum(size)
    last = int(np.searchsorted(cum, residents))
    kind, size = kind[: last + 1], size[: last + 1].copy()
    size[-1] -= int(cum[last] - residents)
    return kind, size


def build_households(rng: np.random.Generator, residents: int, twin_rate: float) -> Households:
    kind, size = _draw_sizes(rng, residents)
    n_h = len(kind)
    start = np.cumsum(size) - size
    household = np.repeat(np.arange(n_h), size)
    position = np.arange(residents) - start[household]
    pkind = kind[household]

    role = np.where(position == 0, HEAD, CHILD)
    has_spouse = np.isin(pkind, [COUPLE, ELDERLY_COUPLE, FAMILY])
    role[has_spouse & (position == 1)] = SPOUSE

    # Ages in years: the head by household kind, the spouse close to the head, children younger than parents.
    head_age = np.select(
        [kind == YOUNG_ALONE, kind == ELDERLY_ALONE, kind == COUPLE, kind == ELDERLY_COUPLE,
         kind == ELDERLY_WITH_CHILD],
        [rng.uniform(21, 65, n_h), 67 + rng.gamma(2.0, 6.0, n_h), rng.uniform(22, 65, n_h),
         rng.uniform(65, 92, n_h), 72 + rng.gamma(2.0, 5.0, n_h)],
        rng.uniform(25, 58, n_h),
    )
    head_age = np.minimum(head_age, 104)
    age = head_age[household].copy()
    spouse = role == SPOUSE
    age[spouse] = np.clip(age[spouse] + rng.normal(-2.0, 3.5, int(spouse.sum())), 19, 104)
    child = role == CHILD
    parent_age = head_age[household[child]]
    elderly_child = pkind[child] == ELDERLY_WITH_CHILD
    child_age = np.where(
        elderly_child,
        parent_age - rng.uniform(22, 40, int(child.sum())),
        rng.uniform(0, 1, int(child.sum())) * np.minimum(26, parent_age - 19),
    )
    age[child] = np.maximum(child_age, 0)
    age_days = (age * 365.25).astype(np.int64)

    # Genders: couples are mostly a man and a woman; single parents and the elderly alone mostly women.
    male = rng.random(residents) < 0.5
    head = role == HEAD
    head_male_p = np.select(
        [pkind == ELDERLY_ALONE, pkind == SINGLE_PARENT, np.isin(pkind, [COUPLE, ELDERLY_COUPLE, FAMILY]),
         pkind == ELDERLY_WITH_CHILD],
        [0.35, 0.15, 0.97, 0.4],
        0.5,
    )
    male[head] = rng.random(residents)[head] < head_male_p[head]
    male[spouse] = ~male[start[household[spouse]]]
    male[spouse] ^= rng.random(int(spouse.sum())) < 0.01   # same-sex couples

    # Twins: in a share of households with two or more children, the first two children share a birth date.
    twin_of = np.full(residents, -1, dtype=np.int64)
    first_child = np.where(np.isin(kind, [FAMILY]), start + 2, start + 1)
    n_children = np.where(kind == FAMILY, size - 2, np.where(kind == SINGLE_PARENT, size - 1, 0))
    twins = (n_children >= 2) & (rng.random(n_h) < twin_rate)
    a, b = first_child[twins], first_child[twins] + 1
    age_days[b] = age_days[a]
    twin_of[a], twin_of[b] = b, a

    # Marital status.
    marital = np.full(residents, SINGLE, dtype=np.int64)
    marital[head | spouse] = np.where(has_spouse[head | spouse], MARRIED, SINGLE)
    solo = head & ~has_spouse
    u = rng.random(residents)
    marital[solo & (pkind == YOUNG_ALONE)] = np.where(u[solo & (pkind == YOUNG_ALONE)] < 0.72, SINGLE, DIVORCED)
    for k, (p_w, p_d) in ((ELDERLY_ALONE, (0.70, 0.20)), (ELDERLY_WITH_CHILD, (0.80, 0.12)),
                          (SINGLE_PARENT, (0.10, 0.70))):
        sel = solo & (pkind == k)
        marital[sel] = np.select([u[sel] < p_w, u[sel] < p_w + p_d], [WIDOWED, DIVORCED], SINGLE)
    adult_child = child & (age_days > 30 * 365) & (rng.random(residents) < 0.3)
    marital[adult_child] = DIVORCED

    # The father, where he lives in the household.
    father = np.full(residents, -1, dtype=np.int64)
    h_of_child = household[child]
    for parent_pos in (0, 1):
        parent = start[h_of_child] + parent_pos
        ok = (parent_pos < size[h_of_child]) & (parent < residents)
        ok &= (role[np.minimum(parent, residents - 1)] != CHILD) & male[np.minimum(parent, residents - 1)]
        idx = np.flatnonzero(child)[ok & (father[child] == -1)]
        father[idx] = start[household[idx]] + parent_pos

    return Households(kind, size, start, household, role, age_days, male, marital, father, twin_of)
