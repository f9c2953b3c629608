"""The government data layer (ODS): a CKAN `datastore_search` client, and its JSON-lines file export.

The client pages with limit/offset until `total`, sends the API key in the `Authorization` header, retries 5xx
answers and timeouts with exponential back-off (bounded), and fails clearly on 401/403 (the key is never echoed).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import requests

from connectors.errors import SourceApiError
from connectors.files import records_to_read
from schemas.sources import load_source

RETRYABLE_STATUS = {500, 502, 503, 504}


@dataclass
class OdsClient:
    base_url: str
    api_key: str
    resource_id: str
    page_size: int = 5000
    timeout: float = 30.0
    max_retries: int = 4
    backoff_seconds: float = 0.5
    session: requests.Session | None = None

    def _get(self, params: dict) -> dict:
        url = self.base_url.rstrip("/") + "/api/3/action/datastore_search"
        http = self.session or requests
        for attempt in range(self.max_retries + 1):
            try:
                resp = http.get(url, params=params, headers={"Authorization": self.api_key}, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as e:
                if attempt == self.max_retries:
                    raise SourceApiError(f"ODS did not answer after {attempt + 1} attempts ({type(e).__name__})") from None
            else:
                if resp.status_code in (401, 403):
                    raise SourceApiError(f"ODS refused the API key (HTTP {resp.status_code}): check TOSHAV_ODS_API_KEY "
                                         f"and the key's access to resource {self.resource_id}")
                if resp.status_code == 404:
                    raise SourceApiError(f"ODS has no resource {self.resource_id} (HTTP 404)")
                if resp.status_code not in RETRYABLE_STATUS:
                    resp.raise_for_status()
                    body = resp.json()
                    if not body.get("success"):
                        raise SourceApiError(f"ODS answered success=false ({body.get('error', {}).get('__type', 'unknown error')})")
                    return body["result"]
                if attempt == self.max_retries:
                    raise SourceApiError(f"ODS kept failing with HTTP {resp.status_code} after {attempt + 1} attempts")
            time.sleep(self.backoff_seconds * (2 ** attempt))
        raise AssertionError("unreachable")

    def fetch(self, municipality: int) -> list[dict]:
        """All records of the municipality, page by page."""
        records: list[dict] = []
        offset, total = 0, None
        while total is None or offset < total:
            result = self._get({"resource_id": self.resource_id, "limit": self.page_size, "offset": offset,
                                "filters": json.dumps({"municipality_code": str(municipality)})})
            page = result.get("records", [])
            total = int(result.get("total", 0))
            records.extend(page)
            if not page:
                break
            offset += len(page)
        return records


def api_delivery(records: list[dict], resource_id: str):
    """-> (delivery name, content hash, FileRead) for records pulled from the API (rows numbered from 1)."""
    source = load_source("ods")
    payload = json.dumps(records, ensure_ascii=False, sort_keys=True).encode()
    digest = hashlib.sha256(payload).hexdigest()
    read = records_to_read(source, f"api:{resource_id}", records, list(range(1, len(records) + 1)), "utf-8")
    return f"api:{resource_id}", digest, read
