"""Writing quotes and their items: a new quote, a new item, a template's items copied onto a quote, the next
display position, and items read back with every column the quote actions return.

Money is integer cents (bigint columns). Totals are not computed here: the actions call
``crm_core.actions.quotes.common.recalculate_totals`` after every item change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from crm_core.dal.quotes import ITEM_COLUMNS, QuoteItemRow
from crm_core.db.models import Quote, QuoteItem
from crm_core.db.prepared import Prepared, insert_of, insert_rows

# The columns a template item hands on to its copy (ids, the owning quote and the computed amounts excepted).
COPIED_ITEM_COLUMNS = tuple(
    name
    for name in ITEM_COLUMNS
    if name not in ("quote_item_id", "quote_id", "total_price", "tax_amount", "net_amount", "applies_to_item_id")
)


def _item_select() -> Any:
    return select(*(QuoteItem.c[name] for name in ITEM_COLUMNS))


def insert_quote(connection: Connection, tenant_id: uuid.UUID, values: dict[str, Any]) -> uuid.UUID:
    """A ``quotes`` row with ``values`` (a ``quote_id`` among them, or a new one); returns its id."""
    quote_id = values.get("quote_id") or uuid.uuid4()
    row = {**values, "tenant": tenant_id, "quote_id": quote_id}
    insert_of(Quote, tuple(row)).all(connection, row)
    return quote_id


def insert_quote_item(connection: Connection, tenant_id: uuid.UUID, values: dict[str, Any]) -> uuid.UUID:
    """A ``quote_items`` row with ``values`` (must include ``quote_id``); returns its id."""
    item_id = values.get("quote_item_id") or uuid.uuid4()
    row = {**values, "tenant": tenant_id, "quote_item_id": item_id}
    insert_of(QuoteItem, tuple(row)).all(connection, row)
    return item_id


def next_display_order(connection: Connection, tenant_id: uuid.UUID, quote_id: uuid.UUID) -> int:
    """One past the quote's highest ``display_order``; 0 for a quote without items."""
    highest = _HIGHEST_DISPLAY_ORDER.scalar(connection, tenant=tenant_id, quote_id=quote_id)
    return 0 if highest is None else int(highest) + 1


_HIGHEST_DISPLAY_ORDER = Prepared(
    select(func.max(QuoteItem.c.display_order)).where(
        QuoteItem.c.tenant == bindparam("tenant"), QuoteItem.c.quote_id == bindparam("quote_id")
    )
)


def item_detail(connection: Connection, tenant_id: uuid.UUID, quote_item_id: uuid.UUID) -> QuoteItemRow | None:
    """One item with all its columns; None when not in the tenant."""
    row = _ITEM_DETAIL.first(connection, tenant=tenant_id, quote_item_id=quote_item_id)
    return None if row is None else QuoteItemRow(**row._asdict())


_ITEM_DETAIL = Prepared(
    _item_select().where(
        QuoteItem.c.tenant == bindparam("tenant"), QuoteItem.c.quote_item_id == bindparam("quote_item_id")
    )
)


def copy_items(
    connection: Connection,
    tenant_id: uuid.UUID,
    source: list[QuoteItemRow],
    *,
    quote_id: uuid.UUID,
    actor: uuid.UUID,
    now: datetime,
) -> None:
    """Copy ``source`` items onto ``quote_id`` in one statement, keeping their order. A discount aimed at one
    of the copied items is aimed at that item's copy; one aimed at anything else keeps its target."""
    if not source:
        return
    new_ids = {item.quote_item_id: uuid.uuid4() for item in source}
    rows = [
        {
            "tenant": tenant_id,
            "quote_item_id": new_ids[item.quote_item_id],
            "quote_id": quote_id,
            **{name: getattr(item, name) for name in COPIED_ITEM_COLUMNS},
            "applies_to_item_id": (
                new_ids.get(item.applies_to_item_id, item.applies_to_item_id) if item.applies_to_item_id else None
            ),
            "created_by": actor,
            "updated_by": actor,
            "created_at": now,
            "updated_at": now,
        }
        for item in source
    ]
    insert_rows(connection, QuoteItem, rows)
