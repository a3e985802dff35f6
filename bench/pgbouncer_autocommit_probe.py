"""Why a statement with parameters must never run outside a transaction behind PgBouncer in transaction mode.

pg8000 sends a statement with parameters in two steps: Parse + Describe + Sync, wait, then Bind + Execute +
Sync. Outside a transaction the server is idle after the first Sync, so PgBouncer (transaction mode) may hand
its connection to another client and send the Bind to a different server connection, whose unnamed statement
is someone else's. Inside a transaction (BEGIN first, as SQLAlchemy always does) the server connection stays
assigned until COMMIT. A statement without parameters goes as one simple-protocol message and is safe.

    .venv/bin/python -m bench.pgbouncer_autocommit_probe     (root: starts its own PostgreSQL and PgBouncer)

Runs ``--clients`` processes for ``--seconds`` each way and prints the errors and wrong answers each way got.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.pooler_load import PG_BIN_CANDIDATES, Servers, free_port


def client(port: int, mode: str, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import pg8000.dbapi

    connection = pg8000.dbapi.connect(
        user="crm_actions_login", password="x", host="127.0.0.1", port=port, database="crm_pooler", ssl_context=False
    )
    if mode != "in a transaction":
        connection.autocommit = True
    cursor = connection.cursor()
    errors = wrong = calls = 0
    first = None
    stop = time.time() + seconds
    while time.time() < stop:
        n = calls + os.getpid() * 1_000_000
        try:
            if mode == "simple protocol, autocommit":
                cursor.execute(f"select {n}::bigint + 0")
            else:
                cursor.execute("select %s::bigint + 0", (n,))
            if cursor.fetchone()[0] != n:
                wrong += 1
            if mode == "in a transaction":
                connection.commit()
        except Exception as exc:  # every failure is the result
            errors += 1
            first = first or f"{type(exc).__name__}: {exc}"[:200]
            try:
                connection.rollback()
            except Exception:
                break
        calls += 1
    out.put((calls, errors, wrong, first))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crm-probe-"))
    shutil.chown(folder, "postgres")
    os.chmod(folder, 0o755)
    bin_dir = next(d for d in PG_BIN_CANDIDATES if (d / "initdb").exists())
    servers = Servers(folder, free_port(), free_port(), bin_dir)
    try:
        servers.start()
        print(
            f"{args.clients} clients x {args.seconds:.0f} s through PgBouncer (transaction mode, 15 server connections)"
        )
        for mode in ("parameters, autocommit", "simple protocol, autocommit", "in a transaction"):
            queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            workers = [
                multiprocessing.Process(target=client, args=(servers.bouncer_port, mode, args.seconds, queue))
                for _ in range(args.clients)
            ]
            for w in workers:
                w.start()
            results = [queue.get(timeout=args.seconds + 60) for _ in workers]
            for w in workers:
                w.join(timeout=5)
                if w.is_alive():
                    w.terminate()
            calls = sum(r[0] for r in results)
            errors = sum(r[1] for r in results)
            wrong = sum(r[2] for r in results)
            first = next((r[3] for r in results if r[3]), None)
            print(f"- {mode}: {calls} statements, {errors} errors, {wrong} wrong answers; first error: {first}")
    finally:
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
