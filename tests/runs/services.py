"""Real services for the deployment tests and the nightly bench: Debian's PostgreSQL in a temporary cluster on a
free loopback port, and the real `dagster-daemon` with the shipped instance configuration (deploy/dagster.yaml).

PostgreSQL comes from Debian's `postgresql` package (`make services` installs it). initdb refuses to run as root,
so as root the cluster belongs to the `postgres` user the package creates."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

PROJECT = Path(__file__).resolve().parents[2]


class ServiceMissing(RuntimeError):
    pass


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise ServiceMissing("PostgreSQL is not installed: `make services` installs Debian's postgresql")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A fresh PostgreSQL cluster on 127.0.0.1 with a `dagster` database; yields its URL, removes it after."""
    bin_dir = postgres_bin()
    data = Path(tempfile.mkdtemp(prefix="toshav-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        owner = pwd.getpwnam(user)
        os.chown(data, owner.pw_uid, owner.pw_gid)
    data.chmod(0o700)
    port = free_port()
    run = dict(user=user, check=True, capture_output=True, text=True)
    subprocess.run([bin_dir / "initdb", "-D", data / "cluster", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--no-locale"], **run)
    subprocess.run([bin_dir / "pg_ctl", "-D", data / "cluster", "-l", data / "server.log", "-w", "-t", "60",
                    "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], **run)
    try:
        subprocess.run([bin_dir / "psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v",
                        "ON_ERROR_STOP=1", "-c", "CREATE DATABASE dagster"], **run)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/dagster"
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data / "cluster", "-m", "fast", "-w", "stop"],
                       user=user, capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class Deployment:
    """A Dagster home with the shipped dagster.yaml, and the environment its processes share."""
    dagster_home: Path
    env: dict[str, str]

    def instance(self):
        import dagster as dg

        os.environ.update(self.env)      # the instance resolves DAGSTER_PG_URL from the environment
        return dg.DagsterInstance.from_config(str(self.dagster_home))


def deployment(root: Path, pg_url: str, toshav_home: Path, inbox: Path, max_runs: int, **extra: str) -> Deployment:
    dagster_home = root / "dagster_home"
    dagster_home.mkdir(parents=True)
    shutil.copyfile(PROJECT / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {"DAGSTER_HOME": str(dagster_home), "DAGSTER_PG_URL": pg_url, "TOSHAV_MAX_CONCURRENT_RUNS": str(max_runs),
           "TOSHAV_HOME": str(toshav_home), "TOSHAV_INBOX": str(inbox), **extra}
    if os.environ.get("TOSHAV_REFERENCE_DIR"):
        env["TOSHAV_REFERENCE_DIR"] = os.environ["TOSHAV_REFERENCE_DIR"]
    return Deployment(dagster_home, env)


@contextlib.contextmanager
def daemon(dep: Deployment, log: Path) -> Iterator[subprocess.Popen]:
    """The real `dagster-daemon` (scheduler, sensors, run queue, run monitoring) on the shipped workspace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUNIFORCE_", "TOSHAV_", "DAGSTER_"))}
    env.update(dep.env)
    exe = Path(sys.executable).parent / "dagster-daemon"
    with open(log, "w") as out:
        proc = subprocess.Popen([exe, "run", "-w", str(PROJECT / "deploy" / "workspace.yaml")], cwd=PROJECT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:          # the daemon, its code server and the runs it started share the session's process group
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def nightly_cron_in(minutes: int) -> str:
    """A daily cron (Israel time) whose one tick comes `minutes` from now: the nightly schedule, brought forward.

    (A schedule's run keys are unique per tick only: an every-minute cron would queue every municipality again
    each minute.)"""
    import datetime as dt
    import zoneinfo

    at = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Jerusalem")) + dt.timedelta(minutes=minutes)
    return f"{at.minute} {at.hour} * * *"


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def wait_for(predicate, timeout: float, every: float = 2.0, on_poll=None):
    deadline = time.monotonic() + timeout
    while True:
        if on_poll:
            on_poll()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("waited too long")
        time.sleep(every)
