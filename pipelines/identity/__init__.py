"""Identity resolution and the resident file: plain functions over a municipality's DuckDB connection.

    resolve_identities(con)                  staged records -> persons -> stable resident keys (resolve.py)
    build_resident_file(con, municipality)   the golden record per resident, with provenance (resident_file.py)
    update_history(con)                      resident_file_history in step with resident_file (history.py)
    build_emergency_profile(con, municipality)  needs and contacts where the law allows (emergency.py)
    evaluate(con, truth_dir, municipality)   quality against the sample-data ground truth (evaluation.py)

Run them in this order; each reads what the one before wrote. docs/identity.md explains the choices.
"""

from pipelines.identity.emergency import build_emergency_profile  # noqa: F401
from pipelines.identity.evaluation import Evaluation, evaluate  # noqa: F401
from pipelines.identity.history import update_history  # noqa: F401
from pipelines.identity.resident_file import build_resident_file  # noqa: F401
from pipelines.identity.resolve import IdentityReport, resolve_identities  # noqa: F401
