"""TLS to PostgreSQL: the SSL context of a connection, from libpq's ``sslmode`` names.

pg8000 takes an ``ssl_context`` rather than ``sslmode``, so the mode is read here: from the URL's ``sslmode``
query parameter when it has one (``postgresql+pg8000://...?sslmode=disable`` for a local server), else from
``DB_SSLMODE`` (default ``verify-full``). The certificate authorities are those of Amazon RDS and RDS Proxy,
shipped in the layer (``rds-ca-bundle.pem`` beside this module), not the system's: a database that presents a
certificate from any other authority is refused.

| mode | encrypted | certificate checked against the RDS authorities | host name checked |
|---|---|---|---|
| ``verify-full`` (default) | yes | yes | yes |
| ``verify-ca`` | yes | yes | no |
| ``require`` | yes | no (only when asked: it does not stop an impostor) | no |
| ``disable`` | no | - | - |

As with libpq, a Unix-socket connection (``unix_sock`` in the URL) is never encrypted: PostgreSQL offers no
TLS there.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, get_args

from sqlalchemy.engine import URL

from crm_core.errors import InternalError
from crm_core.settings import SslMode

RDS_CA_BUNDLE = Path(__file__).with_name("rds-ca-bundle.pem")
SSL_MODES: tuple[str, ...] = get_args(SslMode)


def ssl_context(sslmode: str, *, ca_file: Path = RDS_CA_BUNDLE) -> ssl.SSLContext | None:
    """The SSL context for ``sslmode`` (None for ``disable``), trusting only the authorities in ``ca_file``."""
    if sslmode not in SSL_MODES:
        raise InternalError(
            f"Unknown database sslmode {sslmode!r} (expected one of {', '.join(SSL_MODES)})",
            {"setting": "DB_SSLMODE", "sslmode": sslmode},
        )
    if sslmode == "disable":
        return None
    if sslmode == "require":
        context = ssl.create_default_context()  # no CA file read: nothing is verified
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context(cafile=str(ca_file))
    context.check_hostname = sslmode == "verify-full"
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def tls_connect_arguments(url: URL, default_sslmode: str) -> tuple[URL, dict[str, Any]]:
    """``url`` without its ``sslmode`` parameter, and pg8000's connect arguments for the mode in force.

    The mode is the URL's ``sslmode`` if present, else ``default_sslmode`` (the ``DB_SSLMODE`` setting).
    """
    given = url.query.get("sslmode")
    sslmode = (given if isinstance(given, str) else given[-1]) if given else default_sslmode
    target = url.difference_update_query(["sslmode"])
    if "unix_sock" in url.query:
        return target, {"ssl_context": False}
    # pg8000 reads ssl_context=None as "try TLS anyway" (a new default context and a TLS request on every
    # connect): no TLS at all is False.
    context = ssl_context(sslmode)
    return target, {"ssl_context": False if context is None else context}
