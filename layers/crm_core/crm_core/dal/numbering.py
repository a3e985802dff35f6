"""Per-tenant document numbers (``next_number``): quotes ``QUO-0001``, invoices ``INV-0001``, ...

One ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` takes the next number: the counter row is locked until the
caller's transaction ends, so concurrent callers queue on it and each gets its own number, and a rolled-back
transaction gives its number back (numbers stay gap-free, and no caller ever meets a unique violation).
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, bindparam, func
from sqlalchemy.dialects.postgresql import insert

from crm_core.db.models import NextNumber
from crm_core.db.prepared import Prepared

# Defaults for a tenant that has no counter yet: (prefix, padding), as AlgaPSA's numbering defaults.
DEFAULT_FORMATS: dict[str, tuple[str, int]] = {"QUOTE": ("QUO-", 4), "INVOICE": ("INV-", 4)}


def next_number(connection: Connection, tenant_id: uuid.UUID, entity_type: str) -> str:
    """The next formatted number of ``entity_type`` in the tenant, e.g. ``QUO-0007``."""
    prefix, padding = DEFAULT_FORMATS.get(entity_type, (f"{entity_type[:3]}-", 4))
    row = _NEXT_NUMBER.one(connection, tenant=tenant_id, entity_type=entity_type, prefix=prefix, padding=padding)
    number, stored_prefix, stored_padding = row
    return f"{stored_prefix if stored_prefix is not None else prefix}{str(number).zfill(stored_padding)}"


_NEXT_NUMBER = Prepared(
    insert(NextNumber)
    .values(
        tenant=bindparam("tenant"),
        entity_type=bindparam("entity_type"),
        last_number=1,
        initial_value=1,
        prefix=bindparam("prefix"),
        padding_length=bindparam("padding"),
    )
    .on_conflict_do_update(
        index_elements=["tenant", "entity_type"],
        set_={"last_number": func.greatest(NextNumber.c.last_number + 1, NextNumber.c.initial_value)},
    )
    .returning(NextNumber.c.last_number, NextNumber.c.prefix, NextNumber.c.padding_length)
)
