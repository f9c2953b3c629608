"""The Dagster code location of Toshav: `dagster dev -m pipelines.definitions` (or `dg dev`).

Every module under `pipelines/defs/` is loaded; adding a part of the flow means adding a module there.
"""

import warnings

import dagster as dg

from pipelines import defs as defs_package
from pipelines.private_files import restrict_umask
from pipelines.resources import default_resources


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    """The definitions with the default resources, or with some of them replaced (the CLI, tests)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)  # the loader is stable in use, "preview" in name
        loaded = dg.load_definitions_from_package_module(defs_package)
    # one process per run: a municipality's steps share its DuckDB file (see defs/automation.py)
    return dg.Definitions.merge(loaded, dg.Definitions(resources={**default_resources(), **(resources or {})},
                                                       executor=dg.in_process_executor))


restrict_umask()        # `dagster dev` loads this module: runs, logs and storage it writes are owner-only too
defs = build_definitions()
