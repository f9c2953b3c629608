"""The `toshav` command line.

Each module in this package holds one command (or a few close ones) and registers it on `app`; modules are
discovered, so adding a command means adding a file here.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="toshav",
    help="Toshav (תושב): feeds MuniForce's resident file from municipal and government sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold personal data
)


@app.callback()
def toshav() -> None:
    """Toshav (תושב): feeds MuniForce's resident file from municipal and government sources."""


def _load_commands() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


def main() -> None:
    _load_commands()
    app()
