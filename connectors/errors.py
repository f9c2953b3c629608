"""Errors a source delivery can raise. Messages name the file, row and field — never a value from the file."""

from __future__ import annotations

from pathlib import Path


class ToshavError(Exception):
    """An error whose message is safe to show a person and to log: it names files, rows, fields and settings,
    never a value from the data. The command line prints these as one line; other errors only by their kind."""


class SourceFileError(ToshavError):
    """A delivered file cannot be read as its mapping says (missing column, corrupt workbook, empty file...)."""

    def __init__(self, source: str, file: Path | str, problem: str, row: int | None = None, field: str | None = None):
        self.source, self.file, self.problem, self.row, self.field = source, Path(file).name, problem, row, field
        where = f"{source} file {self.file}"
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field {field}"
        super().__init__(f"{where}: {problem}")


class SourceApiError(ToshavError):
    """A source API refused or failed (after retries). The message never carries credentials."""
