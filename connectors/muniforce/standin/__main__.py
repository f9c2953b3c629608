"""`python -m connectors.muniforce.standin --db PATH --port N` (same as `toshav standin`)."""

import argparse
from pathlib import Path

from connectors.muniforce.standin import DEFAULT_DAILY_LIMIT, run_foreground

parser = argparse.ArgumentParser(description="Run the local MuniForce stand-in in the foreground.")
parser.add_argument("--db", type=Path, required=True)
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--daily-limit", type=int, default=DEFAULT_DAILY_LIMIT)
parser.add_argument("--tenant", action="append", default=[], metavar="MUNICIPAL",
                    help="also print a session for this authority (CBS code), seeing only its records; repeatable")
args = parser.parse_args()
run_foreground(args.db, args.port, args.daily_limit, echo=lambda line: print(line, flush=True),
               tenants=tuple(args.tenant))
