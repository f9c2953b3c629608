"""Slow-loris connections against `toshav serve`'s stack: how many stay open, for how long, at what cost.

    python bench/bench_slowloris.py [--connections 200] [--wait 30]

Opens N connections to the page served on 127.0.0.1 and sends each an unfinished request head (a request line and
one header, never the blank line), then one more header line a second later. Prints how many of them the server
has closed after 2, 5, 11 and `--wait` seconds, the process's thread count, and the same for plain uvicorn (its
h11 protocol without Toshav's head deadline) for comparison. No data is read: the page refuses before the
resident file is opened.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TOSHAV_AUDIT_KEY", "bench-only-audit-key-0123456789abcdef")

from pipelines.private_files import private_dir  # noqa: E402
from serving import server  # noqa: E402
from serving.app import ServeSettings, create_app  # noqa: E402
from serving.identity import LocalIdentity  # noqa: E402


def closed(s: socket.socket) -> bool:
    ready, _, _ = select.select([s], [], [], 0)
    if not ready:
        return False
    try:
        return s.recv(1024) == b""
    except OSError:
        return True


def attack(port: int, n: int, marks: list[float]) -> list[tuple[float, int, int]]:
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(n)]
    for s in sockets:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    start = time.monotonic()
    time.sleep(1)
    for s in sockets:
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            pass
    seen: set[int] = set()
    out = []
    for mark in marks:
        time.sleep(max(0.0, start + mark - time.monotonic()))
        for i, s in enumerate(sockets):
            if i not in seen and closed(s):
                seen.add(i)
        out.append((mark, len(seen), threading.active_count()))
    for s in sockets:
        s.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--wait", type=float, default=30.0)
    args = ap.parse_args()
    home = private_dir(Path(tempfile.mkdtemp(prefix="toshav-slowloris-")))
    marks = [2.0, 5.0, 11.0, args.wait]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, protocol in (("toshav (DeadlineH11)", server.DeadlineH11), ("plain uvicorn h11", "h11")):
        app = create_app(ServeSettings(6600, identity=LocalIdentity("welfare"), home=home))
        with server.running(app, http=protocol) as base:
            port = int(base.rsplit(":", 1)[1])
            for mark, n_closed, threads in attack(port, args.connections, marks):
                print(f"{label:22s} after {mark:5.1f} s: {n_closed:4d} of {args.connections} closed by the server, "
                      f"{threads} threads in the process")


if __name__ == "__main__":
    main()
