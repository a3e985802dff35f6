"""The unit tests: pure rules called directly, with no database, no AWS and no network.

Every test collected below this folder is marked ``unit`` and ``disable_socket``: pytest-socket then makes
any socket (PostgreSQL, moto's server, the network) fail the test. The integration tests of the same session
keep their sockets, because the marks are only added to the items of this folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.unit)
            item.add_marker(pytest.mark.disable_socket)
