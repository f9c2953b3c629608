"""The open API at 1M residents: lookup latency and throughput under a load generator, and change-feed events/s.

    python bench/bench_api.py --residents 1000000 [--seconds 20] [--connections 8] [--home DIR]

Builds the municipality like bench_queries.py (resident_file + emergency_profile by SQL on Holon's real streets),
then gives it a history as three runs would: every resident created, 1% moved, 0.1% merged into another key,
0.1% consent withdrawals. The API runs in its own process on 127.0.0.1 (`serving.server`, as `toshav api` runs it),
with every call token-checked (RS256, keys fixed in the process: no identity provider is contacted) and audited.
The consumer's rate limit is raised for the run (the shipped limits would refuse the load generator).

Load generator: Debian's `wrk` (apt-get install wrk) POSTing lookups by national ID, each a random resident's, on
`--connections` connections; latency percentiles are wrk's. Also one connection, one request at a time, for the
latency without queueing. The machine is shared: the load average is printed beside every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MUNI = 6600
AUDIENCE, ISSUER, CLIENT = "toshav-api", "http://127.0.0.1/bench-issuer", "toshav-property-tax"
T1, T2, T3 = "2026-10-01 02:00:00", "2026-11-01 02:00:00", "2026-12-01 02:00:00"


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def add_history(path: Path) -> dict[str, int]:
    """Three runs' worth of history, merges and withdrawals on the built file, with the pipeline's own functions."""
    import datetime as dt

    from pipelines.identity.emergency import CONSENT_WITHDRAWALS_DDL
    from pipelines.identity.history import update_history
    from pipelines.identity.registry import ensure_registry
    from schemas.model import index_statements

    con = duckdb.connect(str(path))
    try:
        # valid Israeli IDs (bench_queries draws 9 random digits): an 8-digit body and its check digit
        con.execute("UPDATE resident_file SET national_id = lpad(CAST(hash(resident_key, 'id') % 100000000 AS VARCHAR), 8, '0')")
        con.execute("""UPDATE resident_file SET national_id = national_id || CAST((10 - list_sum(list_transform(
                           range(8), lambda k: (CAST(national_id[k + 1] AS INTEGER) * (1 + k % 2)) // 10
                                               + (CAST(national_id[k + 1] AS INTEGER) * (1 + k % 2)) % 10)) % 10) % 10
                           AS VARCHAR)""")
        for statement in index_statements("resident_file"):        # as build_resident_file makes it
            con.execute(statement)
        con.execute("UPDATE resident_file SET updated_at = ?", [T1])
        update_history(con, now=dt.datetime.fromisoformat(T1))
        con.execute("""UPDATE resident_file SET street_code = 401, street_name = 'סוקולוב', updated_at = ?
                       WHERE hash(resident_key, 'move') % 100 = 0""", [T2])
        update_history(con, now=dt.datetime.fromisoformat(T2))
        ensure_registry(con)
        con.execute("""CREATE TEMP TABLE retired AS SELECT resident_key FROM resident_file
                       WHERE hash(resident_key, 'merge') % 1000 = 0""")
        con.execute("""INSERT INTO identity_merges SELECT resident_key, 'R00000000', ? FROM retired""", [T3])
        con.execute("DELETE FROM emergency_profile WHERE resident_key IN (SELECT resident_key FROM retired)")
        con.execute("DELETE FROM resident_file WHERE resident_key IN (SELECT resident_key FROM retired)")
        con.execute(CONSENT_WITHDRAWALS_DDL)
        con.execute("""INSERT INTO consent_withdrawals SELECT resident_key, DATE '2026-11-15', ? FROM resident_file
                       WHERE hash(resident_key, 'consent') % 1000 = 0""", [T3])
        update_history(con, now=dt.datetime.fromisoformat(T3))
        con.execute("CHECKPOINT")
        return dict(zip(("versions", "merges", "withdrawals"), con.execute(
            "SELECT (SELECT count(*) FROM resident_file_history), (SELECT count(*) FROM identity_merges), "
            "(SELECT count(*) FROM consent_withdrawals)").fetchall()[0]))
    finally:
        con.close()


def serve(home: Path, jwks: Path, port: int) -> None:
    """The server process: the API of MUNI with a fixed key set and the bench consumer's limit raised."""
    from joserfc.jwk import KeySet

    from schemas.loader import load_yaml
    from serving.api.app import create_app
    from serving.consumers import parse_consumers
    from serving.server import serve as run
    from serving.tokens import TokenSettings, TokenValidator

    raw = json.loads(json.dumps(load_yaml("consumers.yaml")))
    for spec in raw["consumers"].values():
        spec["requests_per_minute"] = 100_000
    validator = TokenValidator(TokenSettings(issuer=ISSUER, audience=AUDIENCE),
                               keys=KeySet.import_key_set(json.loads(jwks.read_text())))
    run(create_app(MUNI, validator=validator, home=home, consumers=parse_consumers(raw)), "127.0.0.1", port)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(home: Path) -> tuple[str, Path]:
    from joserfc import jwt
    from joserfc.jwk import KeySet, RSAKey

    key = RSAKey.generate_key(2048, parameters={"kid": "bench"}, private=True)
    jwks = home / "bench-jwks.json"
    jwks.write_text(json.dumps(KeySet([key]).as_dict(private=False)))
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600, "sub": CLIENT, "client_id": CLIENT,
              "scope": "residents:read residents:feed"}
    return jwt.encode({"alg": "RS256", "kid": "bench"}, claims, key), jwks


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
local ids = {%s}
request = function()
  return wrk.format(nil, "/v1/residents/lookup", nil, '{"national_id":"' .. ids[math.random(#ids)] .. '"}')
end
"""


def wrk(url: str, bearer: str, ids: list[str], seconds: int, connections: int, home: Path) -> dict[str, str]:
    script = home / "lookup.lua"
    script.write_text(WRK_SCRIPT % (bearer, ",".join(f'"{i}"' for i in ids)))
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s",
                          str(script), url], capture_output=True, text=True, check=True).stdout
    figures = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    figures["rps"] = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = errors.group(1) if errors else "0"
    figures["requests"] = re.search(r"(\d+) requests in", out).group(1)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--sequential", type=int, default=500, help="requests one at a time")
    ap.add_argument("--feed-pages", type=int, default=20, help="pages of 10,000 events to read from the start")
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="use the municipality already built in --home")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--jwks", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("TOSHAV_AUDIT_KEY", "bench-only-audit-key-0123456789abcdef")
    if args.serve:
        return serve(args.home, args.jwks, args.port)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    from bench_queries import build

    home = args.home or Path(tempfile.mkdtemp(prefix="toshav-bench-api-"))
    print(f"{os.cpu_count()} cores, {load()}")
    t = time.perf_counter()
    from pipelines.settings import municipality_db_path
    from schemas.model import index_statements

    path = municipality_db_path(MUNI, home)
    if not (args.reuse and path.exists()):
        path = build(home, args.residents, 0.10)
        counts = add_history(path)
    else:
        con = duckdb.connect(str(path))
        for statement in index_statements("resident_file"):
            con.execute(statement)
        counts = dict(zip(("versions", "merges", "withdrawals"), con.execute(
            "SELECT (SELECT count(*) FROM resident_file_history), (SELECT count(*) FROM identity_merges), "
            "(SELECT count(*) FROM consent_withdrawals)").fetchall()[0]))
        con.close()
    print(f"built {args.residents:,} residents with {counts['versions']:,} history versions, {counts['merges']:,} "
          f"merges, {counts['withdrawals']:,} withdrawals in {time.perf_counter() - t:.0f} s ({load()})")
    from pipelines.publishing import publish

    with duckdb.connect(str(path)) as con:          # the API reads the published state, as after a run
        publish(con, MUNI, home, run_id="bench")
    con = duckdb.connect(str(path), read_only=True)
    ids = [r[0] for r in con.execute("SELECT national_id FROM resident_file USING SAMPLE 2000 ROWS").fetchall()]
    con.close()

    bearer, jwks = token(home)
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--home", str(home), "--jwks", str(jwks),
                               "--port", str(port)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/openapi.json", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the API did not start")
                time.sleep(0.3)
        headers = {"Authorization": f"Bearer {bearer}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            times = []
            for national_id in random.Random(1).choices(ids, k=args.sequential):
                t = time.perf_counter()
                r = http.post("/v1/residents/lookup", json={"national_id": national_id})
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200 and len(r.json()["residents"]) >= 1, r.text[:200]
            times.sort()
            p = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
            print(f"lookup, one at a time ({args.sequential} requests): p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, "
                  f"mean {statistics.mean(times):.1f} ms ({load()})")

        figures = wrk(url, bearer, ids, args.seconds, args.connections, home)
        print(f"lookup under wrk ({args.connections} connections, {args.seconds} s, {figures['requests']} requests, "
              f"{figures['non_2xx']} not 2xx): {figures['rps']} requests/s, p50 {figures['50']}, p90 {figures['90']}, "
              f"p99 {figures['99']} ({load()})")

        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            t = time.perf_counter()
            events, pages, cursor = 0, 0, None
            while True:
                r = http.get("/v1/changes", params={"limit": 10_000, **({"cursor": cursor} if cursor else {})})
                body = r.json()
                events += len(body["events"])
                pages += 1
                cursor = body["next_cursor"]
                if not body["has_more"] or pages >= args.feed_pages:
                    break
            seconds = time.perf_counter() - t
        print(f"change feed from the start: {events:,} events in {pages} pages of 10,000 (more: {body['has_more']}), "
              f"{seconds:.1f} s, "
              f"{events / seconds:,.0f} events/s ({load()})")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
