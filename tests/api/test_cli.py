"""`toshav api` never starts without a token issuer, nor off loopback without TLS."""

import os
import subprocess
import sys


def toshav(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOSHAV_TOKEN")}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)


def test_without_an_issuer_the_api_does_not_start():
    r = toshav("api", "--municipality", "6600")
    assert r.returncode == 2 and "TOSHAV_TOKEN_ISSUER" in r.stderr


def test_off_loopback_without_tls_the_api_does_not_start():
    r = toshav("api", "--municipality", "6600", "--host", "0.0.0.0",
               TOSHAV_TOKEN_ISSUER="http://127.0.0.1:9/issuer", TOSHAV_TOKEN_AUDIENCE="toshav-api")
    assert r.returncode == 2 and "TLS" in r.stderr
