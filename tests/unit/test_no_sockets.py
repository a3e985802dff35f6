"""The unit folder's promise: no socket can be opened here, so nothing below reaches a database or the network."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketBlockedError

pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")


def test_opening_a_socket_fails() -> None:
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_reaching_postgresql_fails() -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine("postgresql+pg8000://crm:crm@127.0.0.1:5432/crm", poolclass=NullPool)

    with pytest.raises(SocketBlockedError), engine.connect() as connection:
        connection.execute(text("select 1"))
