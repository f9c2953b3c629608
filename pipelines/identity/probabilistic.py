"""Probabilistic linking of the records that carry no valid Israeli ID (none, an invalid check digit, a passport)
with Splink 5 on DuckDB.

Records with a valid ID are settled deterministically (same ID = same person, different IDs = different persons)
and form the *anchors*. Splink scores only pairs that involve an unresolved record: unresolved x anchor records
(`predict_between`) and unresolved x unresolved (`predict_within`). Anchors are never compared with each other,
so two valid IDs can never end up in one person, however alike twins look.

Splink runs on a private in-memory DuckDB connection: its working tables never land in the municipality's file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.identity import linkage_model

# A record is linked when the best candidate person reaches LINK_PROBABILITY and is ahead of the runner-up by
# MARGIN_WEIGHT (log2 Bayes factor); pairs between REVIEW_PROBABILITY and LINK_PROBABILITY go to review.
LINK_PROBABILITY = 0.95
REVIEW_PROBABILITY = 0.5
MARGIN_WEIGHT = 3.0

# Household members share a last name, an address and often a phone, evidence Fellegi-Sunter adds up as if it
# were independent. So a link also needs first names that could be the same (close, same ktiv skeleton, or the
# name order swapped), or ID numbers a typing slip apart.
COMPATIBLE = """(jaro_winkler_similarity({x}.first_m, {y}.first_m) >= 0.8 OR {x}.first_sk = {y}.first_sk
      OR ({x}.first_m = {y}.last_m AND {x}.last_m = {y}.first_m) OR {x}.first_m IS NULL OR {y}.first_m IS NULL
      OR CASE WHEN {x}.id_type = 'IsraeliID' AND {y}.id_type = 'IsraeliID'
              THEN hamming({x}.national_id, {y}.national_id) <= 1 ELSE false END)"""

# Below this many known-match pairs (records sharing a valid ID) the municipality's own data are too thin to
# train on, and the parameters shipped in linkage_defaults.json (trained on a generated municipality) are used.
MIN_TRAINING_PAIRS = 5_000
TRAINING_LABEL_PAIRS = 300_000      # m is learnt from at most about this many known-match pairs
U_MAX_PAIRS = 1e6
SEED = 1234

# Term-frequency adjustments (a common name is weaker evidence) need a town's worth of names: in a few hundred
# records every name looks common. Below this many records they are left out.
MIN_TF_RECORDS = 10_000
M_FLOOR, U_FLOOR = 1e-3, 1e-6
DEFAULTS_PATH = Path(__file__).with_name("linkage_defaults.json")
TF_COLUMNS = ("first_m", "last_m")


@dataclass
class LinkReport:
    unresolved: int = 0
    linked_to_anchor: int = 0
    linked_via_unresolved: int = 0
    new_persons: int = 0
    scored_pairs: int = 0
    trained: bool = False
    for_review: int = 0


@lru_cache(maxsize=1)
def default_parameters() -> dict:
    """{comparison: [[m, u] per non-null level]} shipped beside this module."""
    if not DEFAULTS_PATH.exists():
        return {}
    return json.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))


def trained_parameters(model: dict) -> dict:
    """The m/u values of a Splink model dict, in the shape of linkage_defaults.json."""
    out = {}
    for comp in model["comparisons"]:
        levels = [lvl for lvl in comp["comparison_levels"] if not lvl.get("is_null_level")]
        out[comp["output_column_name"]] = [[lvl.get("m_probability"), lvl.get("u_probability")] for lvl in levels]
    return out


def _fill_untrained(model: dict, defaults: dict) -> dict:
    """Levels the data could not estimate (too few pairs seen) take the shipped defaults; levels never seen at
    all (no known match ever had a birth-date typo; no two random records share a mobile) take a small floor,
    so they weigh in a plausible direction instead of not at all."""
    for comp in model["comparisons"]:
        fallback = defaults.get(comp["output_column_name"], [])
        levels = [lvl for lvl in comp["comparison_levels"] if not lvl.get("is_null_level")]
        for i, lvl in enumerate(levels):
            m, u = fallback[i] if i < len(fallback) else (None, None)
            if lvl.get("m_probability") is None:
                lvl["m_probability"] = m if m is not None else M_FLOOR
            if lvl.get("u_probability") is None:
                lvl["u_probability"] = u if u is not None else U_FLOOR
    return model


def _splink_input(con: duckdb.DuckDBPyConnection, sample_mod: int) -> duckdb.DuckDBPyConnection:
    """A private in-memory connection holding the model's columns of all records (`recs_all`), of the anchors
    (`recs_a`) and of the unresolved records (`recs_b`)."""
    cols = [c for c in linkage_model.MODEL_COLUMNS if c != "id_label"]
    table = con.sql(f"""
        SELECT {', '.join(cols)},
               CASE WHEN id_valid AND hash(national_id) % {sample_mod} = 0 THEN national_id END AS id_label,
               NOT id_valid AS unresolved
        FROM _records""").to_arrow_table()
    mem = duckdb.connect()
    mem.execute("SET enable_progress_bar = false")
    mem.register("_recs_arrow", table)
    mem.execute("CREATE TABLE recs_all AS SELECT * EXCLUDE (unresolved) FROM _recs_arrow")
    mem.execute("CREATE TABLE recs_a AS SELECT * EXCLUDE (unresolved) FROM _recs_arrow WHERE NOT unresolved")
    mem.execute("CREATE TABLE recs_b AS SELECT * EXCLUDE (unresolved) FROM _recs_arrow WHERE unresolved")
    mem.unregister("_recs_arrow")
    return mem


def _known_match_pairs(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("""
        SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (
            SELECT count(*) AS n FROM _records WHERE id_valid GROUP BY national_id)""").fetchall()[0][0]


def _prior(con: duckdb.DuckDBPyConnection) -> float:
    """Probability that two random records are the same person, from the deterministic clusters."""
    n, pairs = con.execute("""
        SELECT sum(n), sum(n * (n - 1) / 2) FROM (
            SELECT count(*) AS n FROM _records GROUP BY CASE WHEN id_valid THEN national_id ELSE CAST(rec_id AS VARCHAR) END)
    """).fetchall()[0]
    if not n or n < 2 or not pairs:
        return 1e-5
    return float(min(max(pairs / (n * (n - 1) / 2), 1e-9), 0.5))


def _trained_model(con: duckdb.DuckDBPyConnection, db, recs, report: LinkReport, require_training: bool = False,
                   u_max_pairs: float = U_MAX_PAIRS) -> dict:
    """The model as a Splink settings dict: trained on this municipality's known matches when there are enough,
    levels left untrained filled from the shipped defaults."""
    from splink import Linker

    linker = Linker(recs, linkage_model.settings(_prior(con)), log_level=logging.ERROR)
    if _known_match_pairs(con) >= MIN_TRAINING_PAIRS or require_training:
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=SEED)
        linker.training.estimate_m_from_label_column("id_label")
        report.trained = True
    model = _fill_untrained(linker.misc.save_model_to_json(), {} if require_training else default_parameters())
    if con.execute("SELECT count(*) FROM _records").fetchall()[0][0] < MIN_TF_RECORDS:
        for comp in model["comparisons"]:
            for lvl in comp["comparison_levels"]:
                lvl.pop("tf_adjustment_column", None)
    return model


def train_parameters(con: duckdb.DuckDBPyConnection, u_max_pairs: float = 5e6) -> dict:
    """Train on the staged records of `con` and return the parameters in the shape of linkage_defaults.json
    (used to (re)write the shipped defaults from a generated municipality, see bench/bench_identity.py)."""
    from splink import DuckDBAPI

    from pipelines.identity.records import build_identity_records

    build_identity_records(con)

    mem = _splink_input(con, max(1, int(_known_match_pairs(con) // TRAINING_LABEL_PAIRS) + 1))
    try:
        db = DuckDBAPI(mem)
        return trained_parameters(_trained_model(con, db, db.register("recs_all"), LinkReport(), require_training=True,
                                                 u_max_pairs=u_max_pairs))
    finally:
        mem.close()


def score_pairs(con: duckdb.DuckDBPyConnection, report: LinkReport) -> None:
    """Splink predictions involving unresolved records -> TEMP `_scored_pairs(b, other, other_unresolved,
    match_weight, match_probability)` in `con` (b always the unresolved side; for two unresolved b < other)."""
    from splink import DuckDBAPI, Linker   # imported here: splink is slow to import and only needed for this step

    mem = _splink_input(con, max(1, int(_known_match_pairs(con) // TRAINING_LABEL_PAIRS) + 1))
    try:
        db = DuckDBAPI(mem)
        recs = db.register("recs_all")
        model = _trained_model(con, db, recs, report)
        linker = Linker(recs, model, log_level=logging.ERROR)
        used = {lvl.get("tf_adjustment_column") for comp in model["comparisons"] for lvl in comp["comparison_levels"]}
        for col in TF_COLUMNS:
            if col in used:
                linker.table_management.compute_tf_table(col)
        a, b = db.register("recs_a"), db.register("recs_b")
        between = linker.inference.predict_between(b, a, threshold_match_probability=REVIEW_PROBABILITY,
                                                   warning_mode="never")
        within = linker.inference.predict_within(b, threshold_match_probability=REVIEW_PROBABILITY,
                                                 warning_mode="never")
        pairs = mem.sql(f"""
            SELECT rec_id_l, rec_id_r, match_weight, match_probability FROM {between.physical_name}
            UNION ALL
            SELECT rec_id_l, rec_id_r, match_weight, match_probability FROM {within.physical_name}
        """).to_arrow_table()
    finally:
        mem.close()
    con.register("_pairs_arrow", pairs)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _scored_pairs AS
        WITH p AS (
            SELECT p.rec_id_l AS l, p.rec_id_r AS r, p.match_weight, p.match_probability,
                   NOT rl.id_valid AS l_unresolved, NOT rr.id_valid AS r_unresolved
            FROM _pairs_arrow p JOIN _records rl ON rl.rec_id = p.rec_id_l
                                JOIN _records rr ON rr.rec_id = p.rec_id_r)
        SELECT DISTINCT
               CASE WHEN l_unresolved AND (NOT r_unresolved OR l < r) THEN l ELSE r END AS b,
               CASE WHEN l_unresolved AND (NOT r_unresolved OR l < r) THEN r ELSE l END AS other,
               l_unresolved AND r_unresolved AS other_unresolved, match_weight, match_probability
        FROM p""")
    con.unregister("_pairs_arrow")
    report.scored_pairs = con.execute("SELECT count(*) FROM _scored_pairs").fetchall()[0][0]


def _components(edges: list[tuple[int, int]]) -> dict[int, int]:
    """Connected components of unresolved records (union-find): record -> smallest record id of its component."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def assign_clusters(con: duckdb.DuckDBPyConnection, report: LinkReport) -> None:
    """Every record's cluster for this run -> TEMP `_record_clusters(rec_id, cluster_id)`; doubtful links
    -> TEMP `_link_review(kind, rec_a, rec_b, match_probability)`.

    - a record with a valid ID: the cluster of its ID (`id:<ID>`);
    - an unresolved record: the anchor cluster it matches best, when that reaches LINK_PROBABILITY and leads the
      runner-up clearly (else review: `ambiguous_link`, or `possible_link` below the threshold);
    - unresolved records linked to each other join the one anchor cluster their component reached; a component
      that reached two anchors is not merged further (`conflicting_links`); one that reached none is a new person.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _anchor_candidates AS
        SELECT s.b, 'id:' || a.national_id AS cluster_id, max(s.match_weight) AS w,
               max(s.match_probability) AS p, arg_max(s.other, s.match_weight) AS best_other
        FROM _scored_pairs s JOIN _records a ON a.rec_id = s.other JOIN _records r ON r.rec_id = s.b
        WHERE NOT s.other_unresolved AND {COMPATIBLE.format(x='r', y='a')} GROUP BY ALL;
        CREATE OR REPLACE TEMP TABLE _best_anchor AS
        SELECT * FROM (
            SELECT *, lead(w) OVER win AS runner_w, lead(best_other) OVER win AS runner_other,
                   row_number() OVER win AS rn
            FROM _anchor_candidates WINDOW win AS (PARTITION BY b ORDER BY w DESC, cluster_id))
        WHERE rn = 1;
        CREATE OR REPLACE TEMP TABLE _link_review AS
        SELECT 'ambiguous_link' AS kind, b AS rec_a, runner_other AS rec_b, p AS match_probability
        FROM _best_anchor WHERE p >= {LINK_PROBABILITY} AND runner_w IS NOT NULL AND w - runner_w < {MARGIN_WEIGHT}
        UNION ALL
        SELECT 'possible_link', b, best_other, p FROM _best_anchor WHERE p < {LINK_PROBABILITY};
    """)
    linked = dict(con.execute(f"""
        SELECT b, cluster_id FROM _best_anchor
        WHERE p >= {LINK_PROBABILITY} AND (runner_w IS NULL OR w - runner_w >= {MARGIN_WEIGHT})""").fetchall())
    edges = con.execute(f"""
        SELECT s.b, s.other FROM _scored_pairs s
        JOIN _records x ON x.rec_id = s.b JOIN _records y ON y.rec_id = s.other
        WHERE s.other_unresolved AND s.match_probability >= {LINK_PROBABILITY} AND {COMPATIBLE.format(x='x', y='y')}
        """).fetchall()
    unresolved = [r for (r,) in con.execute("SELECT rec_id FROM _records WHERE NOT id_valid").fetchall()]
    component = _components(edges)
    reached: dict[int, set[str]] = {}
    for rec, root in component.items():
        if rec in linked:
            reached.setdefault(root, set()).add(linked[rec])
    assignment, conflicts = [], []
    for rec in unresolved:
        root = component.get(rec, rec)
        anchors = reached.get(root, set())
        if rec in linked:
            assignment.append((rec, linked[rec]))
            report.linked_to_anchor += 1
        elif len(anchors) == 1:
            assignment.append((rec, next(iter(anchors))))
            report.linked_via_unresolved += 1
        else:
            assignment.append((rec, f"new:{root}"))
            if len(anchors) > 1:
                conflicts.append(("conflicting_links", rec, root, None))
    report.unresolved = len(unresolved)
    report.new_persons = len({c for _, c in assignment if c.startswith("new:")})
    con.register("_assigned", pa.table({"rec_id": pa.array([a for a, _ in assignment], pa.int64()),
                                        "cluster_id": pa.array([c for _, c in assignment], pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE _unresolved_clusters AS SELECT * FROM _assigned")
    con.unregister("_assigned")
    if conflicts:
        con.executemany("INSERT INTO _link_review VALUES (?, ?, ?, ?)", conflicts)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _record_clusters AS
        SELECT rec_id, 'id:' || national_id AS cluster_id FROM _records WHERE id_valid
        UNION ALL SELECT rec_id, cluster_id FROM _unresolved_clusters""")
    report.for_review = con.execute("SELECT count(*) FROM _link_review").fetchall()[0][0]
