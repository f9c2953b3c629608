"""Normalization done once, in one place each: Hebrew text, Israeli IDs, phones, dates, addresses, needs.

Every normalizer exists twice on purpose: as a DuckDB SQL macro (set-based, used by staging over millions of
rows) and as a Python function (used for single values such as a street typed into a query form). Tests hold
the two to the same answers. `install_macros(con)` defines all macros on a connection.
"""

from pipelines.normalize.macros import install_macros  # noqa: F401
