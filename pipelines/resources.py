"""Dagster resources. Configuration comes from the environment (Dagster `EnvVar`), secrets never from code."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from pipelines.settings import default_inbox, municipality_db_path, toshav_home
from pipelines.private_files import private_dir, private_file


class MunicipalityDuckDB(dg.ConfigurableResource):
    """Opens the DuckDB file of one municipality under the data directory (`TOSHAV_HOME`).

    In a run of one municipality it holds that municipality's run lock from the run's start to its end
    (pipelines/run_queue.py): a second run of the same municipality fails at its start with `MunicipalityBusy`
    instead of meeting the first one in the file."""

    home: str = ""

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["MunicipalityDuckDB"]:
        from pipelines.run_queue import PARTITION_TAG, municipality_lock

        run = context.run
        key = run.tags.get(PARTITION_TAG, "") if run is not None else ""
        if not key.isdigit() or str(int(key)) != key:   # not a municipality's run, or a key its steps refuse
            yield self
            return
        with municipality_lock(key, run.run_id, self.home_path):
            yield self

    @property
    def home_path(self) -> Path:
        return Path(self.home).resolve() if self.home else toshav_home()

    def path(self, municipality: int | str) -> Path:
        return municipality_db_path(municipality, self.home_path)

    @contextmanager
    def connect(self, municipality: int | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path(municipality)
        private_dir(path.parent)
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()
            if not read_only:
                for p in (path, path.with_name(path.name + ".wal")):
                    private_file(p)


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


class MuniForce(dg.ConfigurableResource):
    """The MuniForce org (or the local stand-in): instance URL and credentials from MUNIFORCE_* env vars.

    Either a session id (OAuth access token) or username + password + security token. Sync options that
    an operator may tune per deployment sit here too; docs/muniforce.md explains them."""

    instance_url: str = ""
    session_id: str = ""
    username: str = ""
    password: str = ""
    security_token: str = ""
    domain: str = "login"
    deletion_policy: str = "deactivate"
    quota_share: float = 0.5
    bulk_threshold: int = 2000

    @property
    def configured(self) -> bool:
        return bool(self.instance_url)

    def client(self):
        from connectors.muniforce.client import connect

        if not self.configured:
            raise RuntimeError("MuniForce is not configured: set MUNIFORCE_INSTANCE_URL and MUNIFORCE_SESSION_ID "
                               "(or MUNIFORCE_USERNAME, MUNIFORCE_PASSWORD, MUNIFORCE_SECURITY_TOKEN)")
        return connect(self.instance_url, session_id=self.session_id or None, username=self.username or None,
                       password=self.password or None, security_token=self.security_token or None,
                       domain=self.domain)

    def options(self):
        from connectors.muniforce.sync import SyncOptions

        return SyncOptions(deletion_policy=self.deletion_policy, quota_share=self.quota_share,
                           bulk_threshold=self.bulk_threshold)


MUNIFORCE_ENV = {"instance_url": "MUNIFORCE_INSTANCE_URL", "session_id": "MUNIFORCE_SESSION_ID",
                 "username": "MUNIFORCE_USERNAME", "password": "MUNIFORCE_PASSWORD",
                 "security_token": "MUNIFORCE_SECURITY_TOKEN", "domain": "MUNIFORCE_DOMAIN",
                 "deletion_policy": "MUNIFORCE_DELETION_POLICY"}


def muniforce_from_env() -> MuniForce:
    """Each setting present in the environment is passed as an EnvVar (resolved by Dagster at run time,
    never shown in the UI); absent ones keep their defaults."""
    return MuniForce(**{field: dg.EnvVar(env) for field, env in MUNIFORCE_ENV.items() if os.environ.get(env)})


def default_resources() -> dict:
    return {
        "duckdb": MunicipalityDuckDB(home=dg.EnvVar("TOSHAV_HOME").get_value("") or ""),
        "inbox": Inbox(path=dg.EnvVar("TOSHAV_INBOX").get_value("") or ""),
        "ods_api": ods_api_from_env(),
        "muniforce": muniforce_from_env(),
    }
