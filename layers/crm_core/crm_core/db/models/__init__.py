"""Every table, as a SQLAlchemy Core ``Table`` named after the record it holds (``Interaction.c.title``).

A table's module is imported when one of its names is first taken from this package (PEP 562 ``__getattr__``),
so a function loads only the tables its code names: defining a table (its columns, indexes and constraints) is
a measurable part of a Lambda cold start, and the activity functions never use the billing tables. Code that
needs every table on ``crm_core.db.base.metadata`` (migrations, schema checks) calls :func:`load_all`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crm_core.db.models.billing import (
        ClientContract,
        Contract,
        ContractLine,
        Invoice,
        InvoiceCharge,
    )
    from crm_core.db.models.crm import (
        Client,
        Contact,
        Interaction,
        InteractionType,
        Project,
        Status,
        SystemInteractionType,
        TagDefinition,
        TagMapping,
        Ticket,
    )
    from crm_core.db.models.platform import (
        Document,
        DocumentAssociation,
        EmailSendingLog,
        NextNumber,
        Permission,
        Role,
        RolePermission,
        Tenant,
        TenantSettings,
        User,
        UserRole,
    )
    from crm_core.db.models.quotes import Quote, QuoteActivity, QuoteItem
    from crm_core.db.models.workflow import AuditLog, WorkflowActionInvocation, WorkflowEventOutbox

# Which module of this package defines each table.
_HOMES = {
    "ClientContract": "billing",
    "Contract": "billing",
    "ContractLine": "billing",
    "Invoice": "billing",
    "InvoiceCharge": "billing",
    "Quote": "quotes",
    "QuoteActivity": "quotes",
    "QuoteItem": "quotes",
    "Client": "crm",
    "Contact": "crm",
    "Interaction": "crm",
    "InteractionType": "crm",
    "Project": "crm",
    "Status": "crm",
    "SystemInteractionType": "crm",
    "TagDefinition": "crm",
    "TagMapping": "crm",
    "Ticket": "crm",
    "AuditLog": "workflow",
    "Document": "platform",
    "DocumentAssociation": "platform",
    "EmailSendingLog": "platform",
    "NextNumber": "platform",
    "Permission": "platform",
    "Role": "platform",
    "RolePermission": "platform",
    "Tenant": "platform",
    "TenantSettings": "platform",
    "User": "platform",
    "UserRole": "platform",
    "WorkflowActionInvocation": "workflow",
    "WorkflowEventOutbox": "workflow",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    table = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = table
    return table


def load_all() -> None:
    """Define every table (each registers itself on ``crm_core.db.base.metadata``)."""
    for home in sorted(set(_HOMES.values())):
        importlib.import_module(f"{__name__}.{home}")


__all__ = [
    "AuditLog",
    "Client",
    "ClientContract",
    "Contact",
    "Contract",
    "ContractLine",
    "Document",
    "DocumentAssociation",
    "EmailSendingLog",
    "Interaction",
    "InteractionType",
    "Invoice",
    "InvoiceCharge",
    "NextNumber",
    "Permission",
    "Project",
    "Quote",
    "QuoteActivity",
    "QuoteItem",
    "Role",
    "RolePermission",
    "Status",
    "SystemInteractionType",
    "TagDefinition",
    "TagMapping",
    "Tenant",
    "TenantSettings",
    "Ticket",
    "User",
    "UserRole",
    "WorkflowActionInvocation",
    "WorkflowEventOutbox",
]
