"""Data access: every SQL statement the layer runs, one module per subject.

Reads return small typed results (named tuples or frozen dataclasses built straight from the row, no ORM
entities), so callers see field names and types. A lookup that finds nothing returns ``None``; actions turn that
into NotFoundError with :func:`crm_core.dal.lookups.require_found`.
"""
