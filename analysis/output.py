"""Writing what the analysis produces: atomically (a reader never sees half a file) and, for
JSON, with NaN and infinities as null so that every file is valid JSON."""

from __future__ import annotations

import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file renamed into place."""
    tmp = path.with_name(f".tmp-{secrets.token_hex(4)}-{path.name}")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def json_safe(x: Any) -> Any:
    """NaN and infinities as null, numpy scalars as Python numbers, recursively."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` as indented JSON (:func:`json_safe`), atomically."""
    return write_text(path, json.dumps(json_safe(value), indent=1, allow_nan=False) + "\n")


def save_figure(fig: Any, path: Path, *, dpi: int = 110, tight: bool = True) -> Path:
    """Save a matplotlib figure atomically, in the format its suffix names (PNG default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{secrets.token_hex(4)}-{path.name}")
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight" if tight else None,
                format=path.suffix.lstrip(".") or "png")
    os.replace(tmp, path)
    return path
