"""Reading the JSON or YAML files users hand us (scripts, gateway configurations)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_data(path: str | Path) -> dict[str, Any]:
    """A JSON or YAML (`.yaml`, `.yml`) file whose top level is an object."""
    text = Path(path).read_text(encoding="utf-8")
    is_yaml = str(path).endswith((".yaml", ".yml"))
    try:
        if is_yaml:
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise ValueError(f"{path}: not valid {'YAML' if is_yaml else 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the top level must be an object")
    return data
