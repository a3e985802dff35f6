"""Count what a call sends to PostgreSQL, at the wire: every message pg8000 sends as a statement.

Counting happens below SQLAlchemy (on pg8000's ``CoreConnection`` and the layer's one-round-trip sender,
``crm_core.db.wire``), so nothing escapes it: the pool's ping, ``COMMIT`` and ``ROLLBACK`` are statements like
any other. The ``begin transaction`` that opens a transaction (pg8000's own query, or the one the layer sends
with the first statement) is counted apart, as the start of a transaction.

    with count_statements() as log:
        handler(event, context)
    log.statements, log.transactions, log.texts

Used by the statement-budget tests, the fault suite and ``bench/calls.py`` (:func:`intercept_messages` is the
hook under all of them); not shipped in the layer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pg8000.core import CoreConnection

from crm_core.db import wire

_BEGIN = "begin transaction"
_lock = threading.RLock()  # blocks nest in one thread (each restores what the one around it installed)


@dataclass
class StatementLog:
    """What was sent while counting: statements (commit and rollback included) and transactions begun."""

    texts: list[str] = field(default_factory=list)
    transactions: int = 0
    round_trips: int = 0

    @property
    def statements(self) -> int:
        return len(self.texts)

    def summary(self) -> str:
        lines = [f"{self.statements} statements, {self.transactions} transactions, {self.round_trips} round trips"]
        lines += [f"  {i + 1}. {' '.join(text.split())[:160]}" for i, text in enumerate(self.texts)]
        return "\n".join(lines)


# Round trips per message kind: a simple query waits once; pg8000's unnamed (parameterised) statement waits for
# the parse, the describe and the execution; a named (cached, prepared) statement only for the execution. The
# layer's prepared statements go through ``crm_core.db.wire.execute_statement`` ("pipelined"): one wait, the
# transaction's ``begin`` included when it opens one (its ``begin`` keyword).
_ROUND_TRIPS = {"execute_simple": 1, "execute_unnamed": 3, "execute_named": 1, "pipelined": 1}
_PG8000_METHODS = ("execute_simple", "execute_unnamed", "execute_named")


# A hook sees each message before it is sent: the connection, the method (one of _ROUND_TRIPS), the SQL, and the
# method's other arguments (parameter values, oids; for "pipelined": ``(values,)`` and ``{"begin": bool}``).
MessageHook = Callable[[CoreConnection, str, str, tuple[Any, ...], dict[str, Any]], None]


@contextmanager
def intercept_messages(hook: MessageHook, *, this_thread_only: bool = True) -> Iterator[None]:
    """Call ``hook`` before every message pg8000 sends inside the block (by this thread only, unless told
    otherwise): the one patch of pg8000's ``CoreConnection`` that counting, recording and fault injection share.

    Blocks nest within a thread (``with count_statements(), recorder.recording():``); another thread's block
    waits for these to end."""
    thread = threading.get_ident()
    originals = {name: getattr(CoreConnection, name) for name in _PG8000_METHODS}
    original_pipelined = wire.execute_statement

    def hooked(name: str) -> Any:
        original = originals[name]

        def wrapper(self: CoreConnection, statement: str, *args: Any, **kwargs: Any) -> Any:
            if not this_thread_only or threading.get_ident() == thread:
                hook(self, name, statement, args, kwargs)
            return original(self, statement, *args, **kwargs)

        return wrapper

    def pipelined(driver: CoreConnection, sql: str, values: tuple[Any, ...] = (), *, begin: bool = False) -> Any:
        if not this_thread_only or threading.get_ident() == thread:
            hook(driver, "pipelined", sql, (values,), {"begin": begin})
        return original_pipelined(driver, sql, values, begin=begin)

    with _lock:
        for name in originals:
            setattr(CoreConnection, name, hooked(name))
        wire.execute_statement = pipelined
        try:
            yield
        finally:
            for name, original in originals.items():
                setattr(CoreConnection, name, original)
            wire.execute_statement = original_pipelined


@contextmanager
def count_statements(*, this_thread_only: bool = True) -> Iterator[StatementLog]:
    """Count the statements sent to PostgreSQL inside the block (by this thread only, unless told otherwise)."""
    log = StatementLog()

    def count(_connection: CoreConnection, method: str, statement: str, _args: Any, kwargs: dict[str, Any]) -> None:
        if statement.strip().lower() == _BEGIN:
            log.transactions += 1
        else:
            log.transactions += bool(method == "pipelined" and kwargs.get("begin"))
            log.texts.append(statement)
        log.round_trips += _ROUND_TRIPS[method]

    with intercept_messages(count, this_thread_only=this_thread_only):
        yield log
