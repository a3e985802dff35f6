"""Demo scenes of single actions: each module exposes ``play(stage)``; they run in ``ORDER``, then any others by
name. The workflows are in crm_demo/flows."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

ORDER = ["notes", "activities", "tags", "quotes"]


def scenes() -> list[tuple[str, Callable[[Any], None]]]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    ordered = [n for n in ORDER if n in names] + sorted(n for n in names if n not in ORDER)
    return [(name, importlib.import_module(f"{__name__}.{name}").play) for name in ordered]
