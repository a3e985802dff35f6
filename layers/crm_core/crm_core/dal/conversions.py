"""Quote conversion: the quote items a conversion reads, and the draft contract and invoice rows it writes
(``contracts``, ``contract_lines``, ``client_contracts``, ``invoices``, ``invoice_charges``).

Money is integer cents (bigint columns), as AlgaPSA stores it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table

from crm_core.dal.writes import insert_row
from crm_core.db.models import ClientContract, Contract, ContractLine, Invoice, InvoiceCharge
from crm_core.db.prepared import insert_rows


def insert_contract(
    connection: Connection,
    tenant_id: uuid.UUID,
    *,
    client_id: uuid.UUID,
    values: dict[str, Any],
    lines: list[dict[str, Any]],
    start_date: datetime,
    now: datetime,
) -> uuid.UUID:
    """A ``contracts`` row (``values``: its columns), its ``contract_lines`` (each a dict of columns) and the
    ``client_contracts`` row assigning it to the client from ``start_date``; returns the contract id."""
    contract_id = uuid.uuid4()
    _insert_with_children(
        connection,
        Contract,
        {"tenant": tenant_id, "contract_id": contract_id, "created_at": now, "updated_at": now, **values},
        ContractLine,
        [
            {"tenant": tenant_id, "contract_line_id": uuid.uuid4(), "contract_id": contract_id, "created_at": now}
            | line
            for line in lines
        ],
    )
    insert_row(
        connection,
        ClientContract,
        {
            "tenant": tenant_id,
            "client_contract_id": uuid.uuid4(),
            "client_id": client_id,
            "contract_id": contract_id,
            "start_date": start_date,
            "end_date": None,
            "is_active": True,
            "created_at": now,
        },
    )
    return contract_id


def insert_invoice(
    connection: Connection,
    tenant_id: uuid.UUID,
    *,
    values: dict[str, Any],
    charges: list[dict[str, Any]],
    now: datetime,
) -> uuid.UUID:
    """An ``invoices`` row (``values``: its columns) with its ``invoice_charges`` (each a dict of columns, with
    its own ``item_id``); returns the invoice id."""
    invoice_id = uuid.uuid4()
    _insert_with_children(
        connection,
        Invoice,
        {"tenant": tenant_id, "invoice_id": invoice_id, "created_at": now, "updated_at": now, **values},
        InvoiceCharge,
        [{"tenant": tenant_id, "invoice_id": invoice_id, "created_at": now} | charge for charge in charges],
    )
    return invoice_id


def _insert_with_children(
    connection: Connection, parent: Table, values: dict[str, Any], child: Table, rows: list[dict[str, Any]]
) -> None:
    """The ``parent`` row with ``values``, then the ``child`` table's ``rows`` in one statement (none for none)."""
    insert_row(connection, parent, values)
    insert_rows(connection, child, rows)
