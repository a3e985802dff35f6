"""Configuration from environment variables (CONTRACT section 9).

Nothing is read at import time: each setting is looked up when first needed, so importing a function module
needs no configuration, and a missing setting is reported by name at the first call that needs it.
"""

from __future__ import annotations

import os

from crm_core.errors import InternalError


def require_setting(name: str) -> str:
    """The value of environment variable ``name``; an InternalError naming it when unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise InternalError(f"Configuration setting {name} is not set", {"setting": name})
    return value


def optional_setting(name: str, default: str | None = None) -> str | None:
    """The value of environment variable ``name``, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or default


def aws_endpoint_url() -> str | None:
    """The boto3 endpoint override (a local AWS emulator in development), if any."""
    return optional_setting("AWS_ENDPOINT_URL")
