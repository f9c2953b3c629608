"""The government data layer (ODS): its CKAN `datastore_search` API, and its JSON-lines file export
(read like any delivered file, see files.py)."""

from __future__ import annotations

import hashlib
import json

from connectors.ckan import CkanClient
from connectors.files import records_to_read
from schemas.sources import load_source


class OdsClient(CkanClient):
    """The ODS resource of one ministry data layer; records are filtered by municipality."""

    def __init__(self, base_url: str, api_key: str, resource_id: str, **options):
        super().__init__(base_url=base_url, resource_id=resource_id, api_key=api_key, name="ODS",
                         key_setting="TOSHAV_ODS_API_KEY", **options)

    def fetch(self, municipality: int) -> list[dict]:  # type: ignore[override]
        """All records of one municipality."""
        return super().fetch({"municipality_code": str(municipality)})


def api_delivery(records: list[dict], resource_id: str):
    """-> (delivery name, content hash, FileRead) for records pulled from the API (rows numbered from 1)."""
    source = load_source("ods")
    payload = json.dumps(records, ensure_ascii=False, sort_keys=True).encode()
    digest = hashlib.sha256(payload).hexdigest()
    read = records_to_read(source, f"api:{resource_id}", records, list(range(1, len(records) + 1)), "utf-8")
    return f"api:{resource_id}", digest, read
