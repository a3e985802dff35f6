"""The actions' and the relay's logins, derived from one administrator's URL (scripts/database.sh, CI).

``python -m crm_dev.database_logins URL`` connects with ``URL``, creates the group roles ``crm_actions`` and
``crm_relay`` and the logins ``crm_actions_login`` and ``crm_relay_login`` when missing (``URL``'s role then
needs CREATEROLE: CI's superuser has it), grants each login its group, and prints shell
``export`` lines: ``MIGRATION_DATABASE_URL`` (``URL`` itself: it runs the migrations), ``DATABASE_URL`` and
``RELAY_DATABASE_URL`` (the same server and database, as the two logins), and ``DB_SSLMODE=disable`` when the
server is local and ``DB_SSLMODE`` is unset.

For development and CI only: each login's password is its name. Production logins are made by hand (README).
"""

from __future__ import annotations

import os
import shlex
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from crm_core.db.roles import ACTIONS_ROLE, RELAY_ROLE
from crm_core.db.tls import tls_connect_arguments

LOGINS = {ACTIONS_ROLE: "crm_actions_login", RELAY_ROLE: "crm_relay_login"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class LoginSetupError(Exception):
    """The administrator's URL cannot create the logins."""


def ensure_logins(admin_url: str) -> dict[str, str]:
    """Create the group roles and their logins if missing; returns the environment to export."""
    url = make_url(admin_url)
    local_default = "disable" if url.host in LOCAL_HOSTS or not url.host else None
    sslmode = os.environ.get("DB_SSLMODE") or local_default or "verify-full"
    target, connect_args = tls_connect_arguments(url, sslmode)
    engine = create_engine(target, connect_args=connect_args, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            ready = connection.execute(
                text(
                    "select count(*) from pg_roles l join pg_auth_members m on m.member = l.oid "
                    "join pg_roles g on g.oid = m.roleid where (g.rolname, l.rolname) in ((:a, :al), (:r, :rl))"
                ),
                {"a": ACTIONS_ROLE, "al": LOGINS[ACTIONS_ROLE], "r": RELAY_ROLE, "rl": LOGINS[RELAY_ROLE]},
            ).scalar_one()
            if ready < len(LOGINS):
                _create_logins(connection)
    finally:
        engine.dispose()

    def as_login(login: str) -> str:
        return url.set(username=login, password=login).render_as_string(hide_password=False)

    exports = {
        "MIGRATION_DATABASE_URL": admin_url,
        "DATABASE_URL": as_login(LOGINS[ACTIONS_ROLE]),
        "RELAY_DATABASE_URL": as_login(LOGINS[RELAY_ROLE]),
    }
    if not os.environ.get("DB_SSLMODE") and local_default:
        exports["DB_SSLMODE"] = local_default
    return exports


def _create_logins(connection: Connection) -> None:
    me = connection.execute(
        text("select rolname as name, rolsuper or rolcreaterole as may from pg_roles where rolname = current_user")
    ).one()
    if not me.may:
        raise LoginSetupError(
            f"DATABASE_URL's role {me.name!r} has no CREATEROLE, so the actions' and the relay's logins cannot "
            "be created from it: set MIGRATION_DATABASE_URL (the schema owner), DATABASE_URL (a member of "
            f"{ACTIONS_ROLE}) and RELAY_DATABASE_URL (a member of {RELAY_ROLE}) yourself"
        )
    for group, login in LOGINS.items():
        _create_role_if_missing(connection, f'CREATE ROLE "{group}" NOLOGIN', group)
        _create_role_if_missing(
            connection,
            f"CREATE ROLE \"{login}\" LOGIN PASSWORD '{login}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            login,
        )
        connection.execute(text(f'GRANT "{group}" TO "{login}"'))


def _create_role_if_missing(connection: Connection, statement: str, name: str) -> None:
    if connection.execute(text("select 1 from pg_roles where rolname = :n"), {"n": name}).first() is None:
        try:
            connection.execute(text(statement))
        except Exception:  # created at the same moment by another process
            if connection.execute(text("select 1 from pg_roles where rolname = :n"), {"n": name}).first() is None:
                raise


def main(argv: list[str] | None = None) -> int:
    """Print the ``export`` lines for the URL given (see the module docstring)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m crm_dev.database_logins ADMIN_DATABASE_URL", file=sys.stderr)
        return 2
    try:
        exports = ensure_logins(args[0])
    except LoginSetupError as exc:
        print(f"database_logins: {exc}", file=sys.stderr)
        return 1
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
