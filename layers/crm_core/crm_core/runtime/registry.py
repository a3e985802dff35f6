"""The registry of every action: each module under ``crm_core.actions`` (any domain package) that defines
``SPEC`` is one action.

Nothing lists the actions by hand: the catalog, the CLI, the template check and the contract tests all read
this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from crm_core.errors import ValidationError
from crm_core.runtime.spec import ActionSpec


@cache
def all_specs() -> tuple[ActionSpec[Any, Any], ...]:
    """Every registered action, sorted by id. Raises if two modules declare the same id and version."""
    import crm_core.actions as package

    specs: dict[str, ActionSpec[Any, Any]] = {}
    for module_info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        if module_info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(module_info.name)
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, ActionSpec):
            continue
        if spec.qualified_id in specs:
            raise RuntimeError(f"action {spec.qualified_id} is registered twice")
        if spec.side_effectful and spec.idempotency not in ("engineProvided", "actionProvided"):
            raise RuntimeError(f"side-effectful action {spec.id} declares no idempotency mode")
        specs[spec.qualified_id] = spec
    return tuple(sorted(specs.values(), key=lambda s: (s.id, s.version)))


def get_spec(action_id: str, version: int | None = None) -> ActionSpec[Any, Any]:
    """The action with ``action_id`` (and ``version``; default the highest). ValidationError when unknown."""
    matches = [s for s in all_specs() if s.id == action_id and (version is None or s.version == version)]
    if not matches:
        known = sorted({s.id for s in all_specs()})
        raise ValidationError(f"Unknown action {action_id!r}", {"action_id": action_id, "known_actions": known})
    return max(matches, key=lambda s: s.version)
