"""The literals of dal/alone.py's one-message statements: quotes doubled, NULL for None, NUL refused."""

from __future__ import annotations

import pytest

from crm_core.dal.alone import sql_literal


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "NULL"),
        ("", "''"),
        ("plain", "'plain'"),
        ("O'Brien", "'O''Brien'"),
        ("''; drop table x; --", "'''''; drop table x; --'"),
        ('{"a": "it\'s \\\\ fine"}', "'{\"a\": \"it''s \\\\ fine\"}'"),
        ("%s", "'%s'"),
    ],
)
def test_a_value_becomes_a_standard_sql_string_literal(value: str | None, literal: str) -> None:
    assert sql_literal(value) == literal


def test_nul_cannot_be_a_literal() -> None:
    with pytest.raises(ValueError, match="NUL"):
        sql_literal("a\x00b")
