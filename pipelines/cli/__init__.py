"""The `toshav` command line.

Each module in this package holds one command (or a few close ones) and registers it on `app`; modules are
discovered, so adding a command means adding a file here.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

app = typer.Typer(
    name="toshav",
    help="Toshav (תושב): feeds MuniForce's resident file from municipal and government sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # main() prints one plain line; --debug the whole trace
)


def debug_enabled() -> bool:
    return os.environ.get("TOSHAV_DEBUG") == "1"


@app.callback()
def toshav(debug: bool = typer.Option(False, "--debug", help="On an error, show the stack trace and Dagster's log")) -> None:
    """Toshav (תושב): feeds MuniForce's resident file from municipal and government sources."""
    if debug:
        os.environ["TOSHAV_DEBUG"] = "1"
    from pipelines.private_files import exposed, restrict_umask
    from pipelines.settings import toshav_home

    restrict_umask()            # everything this process creates is owner-only (docs/security.md)
    readable = exposed(toshav_home(), limit=1)
    if readable:
        typer.echo(f"warning: {readable[0]} (and maybe more under {toshav_home()}) can be read by other users; "
                   f"run `chmod -R go-rwx {toshav_home()}`", err=True)


def _load_commands() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


def plain_error(error: BaseException) -> str:
    """One line for an error that ends a command. Toshav's own errors (ToshavError) say what is wrong without a
    value and are shown; any other error's message may quote data, so only its kind is named."""
    from connectors.errors import ToshavError

    if isinstance(error, ToshavError):
        return str(error)
    return f"{type(error).__name__} (details withheld: they may quote a data value; run again with --debug)"


def main() -> None:
    _load_commands()
    if "--debug" in sys.argv[2:]:   # `toshav run ... --debug` means the same as `toshav --debug run ...`
        sys.argv.remove("--debug")
        sys.argv.insert(1, "--debug")
    try:
        app()
    except Exception as error:  # noqa: BLE001 - the command line's last word on any failure
        if debug_enabled():
            raise
        print(f"toshav: error: {plain_error(error)}", file=sys.stderr)
        sys.exit(1)
