"""Reads the YAML files that sit beside this module (one cached read each)."""

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SCHEMAS_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def load_yaml(relative_path: str) -> Any:
    with open(SCHEMAS_DIR / relative_path, encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when present
