"""Dagster resources. Configuration comes from the environment (Dagster `EnvVar`), secrets never from code."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from pipelines.settings import default_inbox, municipality_db_path, toshav_home


class MunicipalityDuckDB(dg.ConfigurableResource):
    """Opens the DuckDB file of one municipality under the data directory (`TOSHAV_HOME`)."""

    home: str = ""

    @property
    def home_path(self) -> Path:
        return Path(self.home).resolve() if self.home else toshav_home()

    def path(self, municipality: int | str) -> Path:
        return municipality_db_path(municipality, self.home_path)

    @contextmanager
    def connect(self, municipality: int | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path(municipality)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()


class Inbox(dg.ConfigurableResource):
    """The drop folder: `<path>/<municipality>/<source>/<file>`."""

    path: str = ""

    @property
    def root(self) -> Path:
        return Path(self.path).resolve() if self.path else default_inbox()

    def source_dir(self, municipality: int | str, source: str) -> Path:
        return self.root / str(int(municipality)) / source


class OdsApi(dg.ConfigurableResource):
    """The government data layer's CKAN API. Unconfigured (no URL) means: read ODS exports from the inbox only."""

    base_url: str = ""
    api_key: str = ""
    resource_id: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.base_url)


def ods_api_from_env() -> OdsApi:
    """The key is a secret: it comes from TOSHAV_ODS_API_KEY through EnvVar, resolved by Dagster at run time."""
    if not os.environ.get("TOSHAV_ODS_URL"):
        return OdsApi()
    return OdsApi(base_url=dg.EnvVar("TOSHAV_ODS_URL"), api_key=dg.EnvVar("TOSHAV_ODS_API_KEY"),
                  resource_id=dg.EnvVar("TOSHAV_ODS_RESOURCE_ID"))


def default_resources() -> dict:
    return {
        "duckdb": MunicipalityDuckDB(home=dg.EnvVar("TOSHAV_HOME").get_value("") or ""),
        "inbox": Inbox(path=dg.EnvVar("TOSHAV_INBOX").get_value("") or ""),
        "ods_api": ods_api_from_env(),
    }
