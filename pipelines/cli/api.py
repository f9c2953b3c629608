"""`toshav api`: the open API of one municipality's resident file for municipal and government systems (docs/api.md)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from pipelines.cli import app

errors = Console(stderr=True)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@app.command()
def api(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8060, help="Port"),
    ssl_certfile: Optional[Path] = typer.Option(None, help="TLS certificate (required off loopback)"),
    ssl_keyfile: Optional[Path] = typer.Option(None, help="TLS private key"),
    home: Optional[Path] = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
) -> None:
    """Serve the REST API (OpenAPI 3.1 at /openapi.json). Tokens: TOSHAV_TOKEN_ISSUER, TOSHAV_TOKEN_AUDIENCE."""
    from serving.api.app import create_app
    from serving.server import serve
    from serving.tokens import TokenSettings, TokenValidator

    try:
        settings = TokenSettings.from_env(os.environ)
    except ValueError as e:
        errors.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    if settings is None:
        errors.print("[red]set TOSHAV_TOKEN_ISSUER (the identity provider) and TOSHAV_TOKEN_AUDIENCE: every call "
                     "needs a token[/red]")
        raise typer.Exit(2)
    if not _loopback(host) and not (ssl_certfile and ssl_keyfile):
        errors.print("[red]off 127.0.0.1 the API needs TLS (--ssl-certfile, --ssl-keyfile): tokens and residents' "
                     "data must not cross a network in clear[/red]")
        raise typer.Exit(2)
    scheme = "https" if ssl_certfile else "http"
    errors.print(f"open API of municipality {municipality} on {scheme}://{host}:{port}/v1 "
                 f"(OpenAPI at /openapi.json; tokens of {settings.issuer}); Ctrl-C stops")
    tls = {"ssl_certfile": str(ssl_certfile), "ssl_keyfile": str(ssl_keyfile)} if ssl_certfile else {}
    serve(create_app(municipality, validator=TokenValidator(settings), home=home), host, port, **tls)
