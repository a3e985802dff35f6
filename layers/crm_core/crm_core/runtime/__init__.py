"""The action runtime: specs, registry and the handler factory."""

from crm_core.runtime.context import ActionContext
from crm_core.runtime.handler import build_handler
from crm_core.runtime.registry import all_specs, get_spec
from crm_core.runtime.spec import ActionSpec, PermissionNeed

__all__ = ["ActionContext", "ActionSpec", "PermissionNeed", "all_specs", "build_handler", "get_spec"]
