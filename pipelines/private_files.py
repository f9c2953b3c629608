"""Owner-only files: everything Toshav writes is readable by its owner alone (folders 0700, files 0600).

The resident file holds a city's names, ID numbers, phones and disability data; the Privacy Protection (Data
Security) Regulations ask that only those entitled can read it. The process umask is set to 0o077 when `toshav`
starts (`restrict_umask`), and every place that creates a folder or a file also calls `private_dir` /
`private_file`, so the modes hold whatever umask a library or a parent process left (DuckDB, SQLite and Dagster
create their own files).

`exposed(home)` lists what others can read under a folder: `toshav` warns about it and the page refuses to start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
OTHERS = stat.S_IRWXG | stat.S_IRWXO


def restrict_umask() -> int:
    """New files and folders of this process are owner-only; returns the previous umask."""
    return os.umask(0o077)


def private_dir(path: Path | str) -> Path:
    """Create the folder (and missing parents) owner-only; an existing folder is narrowed to 0700."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        p.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(p, DIR_MODE)
    if path.exists():
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path | str) -> Path:
    """Narrow an existing file to 0600 (DuckDB, SQLite and openpyxl create files with the process umask)."""
    path = Path(path)
    if path.exists():
        os.chmod(path, FILE_MODE)
    return path


def write_private_bytes(path: Path | str, data: bytes) -> Path:
    """Write a file that is never, even for a moment, readable by others."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(data)
    finally:
        os.close(fd)
    return path


def write_private_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    return write_private_bytes(path, text.encode(encoding))


def open_private_append(path: Path | str):
    """A text file opened for appending, created 0600."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "a", encoding="utf-8")


def privatize_tree(root: Path | str) -> int:
    """Narrow a folder and everything under it to owner-only; returns how many entries changed."""
    root = Path(root)
    changed = 0
    if not root.exists():
        return 0
    for dirpath, dirnames, filenames in os.walk(root):
        for p in [Path(dirpath)] + [Path(dirpath) / f for f in filenames]:
            if p.is_symlink():
                continue
            mode = stat.S_IMODE(p.stat().st_mode)
            if mode & OTHERS:
                os.chmod(p, DIR_MODE if p.is_dir() else mode & 0o700)
                changed += 1
    return changed


def exposed(root: Path | str, limit: int = 20) -> list[Path]:
    """Up to `limit` folders or files under `root` (itself included) that group or others may read or enter."""
    root = Path(root)
    found: list[Path] = []
    if not root.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        for p in [Path(dirpath)] + [Path(dirpath) / f for f in filenames]:
            try:
                if not p.is_symlink() and stat.S_IMODE(p.stat().st_mode) & OTHERS:
                    found.append(p)
            except FileNotFoundError:
                continue
            if len(found) >= limit:
                return found
    return found
