"""crm_core: the shared layer of the CRM workflow actions.

Folders, in the direction dependencies point:

- ``runtime/``  the handler factory: envelope, validation, tenant transaction, permissions, idempotency,
  audit, outbox, error mapping (where a request enters);
- ``actions/``  one module per ``crm.*`` action: input and output models, spec, business rules;
- ``dal/``      data access: every SQL statement the actions run;
- ``db/``       SQLAlchemy models, the engine, Alembic migrations;
- ``aws/``      the small interfaces in front of boto3 (event publisher, mailer, PDF store).
"""

__version__ = "0.1.0"
