"""A client for CKAN's `datastore_search` (data.gov.il and the government data layer use it).

Pages with limit/offset until `total`, sends an API key in the `Authorization` header when there is one, retries
5xx answers and timeouts with exponential back-off (bounded), and fails clearly on 401/403 (never echoing the key).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import requests

from connectors.errors import SourceApiError

RETRYABLE_STATUS = {500, 502, 503, 504}


@dataclass
class CkanClient:
    base_url: str
    resource_id: str
    api_key: str = ""
    page_size: int = 5000
    timeout: float = 30.0
    max_retries: int = 4
    backoff_seconds: float = 0.5
    name: str = "CKAN"                  # how errors call the service, e.g. "ODS"
    key_setting: str = "the API key"    # where the operator sets the key, for the 401/403 message
    session: requests.Session | None = None

    def _get(self, params: dict) -> dict:
        url = self.base_url.rstrip("/") + "/api/3/action/datastore_search"
        http = self.session or requests
        headers = {"Authorization": self.api_key} if self.api_key else {}
        for attempt in range(self.max_retries + 1):
            try:
                resp = http.get(url, params=params, headers=headers, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as e:
                if attempt == self.max_retries:
                    raise SourceApiError(f"{self.name} did not answer after {attempt + 1} attempts ({type(e).__name__})") from None
            else:
                if resp.status_code in (401, 403):
                    raise SourceApiError(f"{self.name} refused the API key (HTTP {resp.status_code}): check {self.key_setting} "
                                         f"and the key's access to resource {self.resource_id}")
                if resp.status_code == 404:
                    raise SourceApiError(f"{self.name} has no resource {self.resource_id} (HTTP 404)")
                if resp.status_code not in RETRYABLE_STATUS:
                    resp.raise_for_status()
                    body = resp.json()
                    if not body.get("success"):
                        raise SourceApiError(f"{self.name} answered success=false "
                                             f"({body.get('error', {}).get('__type', 'unknown error')})")
                    return body["result"]
                if attempt == self.max_retries:
                    raise SourceApiError(f"{self.name} kept failing with HTTP {resp.status_code} after {attempt + 1} attempts")
            time.sleep(self.backoff_seconds * (2 ** attempt))
        raise AssertionError("unreachable")

    def fetch(self, filters: dict | None = None) -> list[dict]:
        """Every record of the resource (matching `filters`), page by page."""
        records: list[dict] = []
        offset, total = 0, None
        while total is None or offset < total:
            params = {"resource_id": self.resource_id, "limit": self.page_size, "offset": offset}
            if filters:
                params["filters"] = json.dumps(filters, ensure_ascii=False)
            result = self._get(params)
            page = result.get("records", [])
            total = int(result.get("total", 0))
            records.extend(page)
            if not page:
                break
            offset += len(page)
        return records
