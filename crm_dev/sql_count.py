"""Count what a call sends to PostgreSQL, at the wire: every message pg8000 sends as a statement.

Counting happens below SQLAlchemy (on pg8000's ``CoreConnection``), so nothing escapes it: the pool's ping,
``COMMIT`` and ``ROLLBACK`` are statements like any other. The ``begin transaction`` pg8000 sends before the
first statement of a transaction is counted apart, as the start of a transaction.

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


# Round trips pg8000 makes per message kind: a simple query waits once; an unnamed (parameterised) statement
# waits for the parse, the describe and the execution; a named (cached, prepared) statement only for the
# execution.
_ROUND_TRIPS = {"execute_simple": 1, "execute_unnamed": 3, "execute_named": 1}


# A hook sees each message before pg8000 sends it: the connection, the method (one of _ROUND_TRIPS), the SQL,
# and the method's other arguments (parameter values, oids).
MessageHook = Callable[[CoreConnection, str, str, tuple[Any, ...], dict[str, Any]], None]


@contextmanager
def intercept_messages(hook: MessageHook, *, this_thread_only: bool = True) -> Iterator[None]:
    """Call ``hook`` before every message pg8000 sends inside the block (by this thread only, unless told
    otherwise): the one patch of pg8000's ``CoreConnection`` that counting, recording and fault injection share.

    Blocks nest within a thread (``with count_statements(), recorder.recording():``); another thread's block
    waits for these to end."""
    thread = threading.get_ident()
    originals = {name: getattr(CoreConnection, name) for name in _ROUND_TRIPS}

    def hooked(name: str) -> Any:
        original = originals[name]

        def wrapper(self: CoreConnection, statement: str, *args: Any, **kwargs: Any) -> Any:
            if not this_thread_only or threading.get_ident() == thread:
                hook(self, name, statement, args, kwargs)
            return original(self, statement, *args, **kwargs)

        return wrapper

    with _lock:
        for name in originals:
            setattr(CoreConnection, name, hooked(name))
        try:
            yield
        finally:
            for name, original in originals.items():
                setattr(CoreConnection, name, original)


@contextmanager
def count_statements(*, this_thread_only: bool = True) -> Iterator[StatementLog]:
    """Count the statements sent to PostgreSQL inside the block (by this thread only, unless told otherwise)."""
    log = StatementLog()

    def count(_connection: CoreConnection, method: str, statement: str, *_: Any) -> None:
        if statement.strip().lower() == _BEGIN:
            log.transactions += 1
        else:
            log.texts.append(statement)
        log.round_trips += _ROUND_TRIPS[method]

    with intercept_messages(count, this_thread_only=this_thread_only):
        yield log
