"""``crm-actions``: migrate the database, print the designer catalog, invoke an action locally, decide on a quote
a quote-to-cash execution waits for.

    crm-actions db upgrade
    crm-actions catalog
    crm-actions invoke crm.create_activity_note --event events/create_activity_note.json [--emulate-aws]
    crm-actions relay [--emulate-aws]
    crm-actions approve --tenant T --approver U --quote Q --decision approve|request_changes|reject [--comment C]

Settings come from the environment; when ``DATABASE_URL`` is unset, ``.local/env`` (written by the demo and
test scripts for the private PostgreSQL) is read from the project folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

LOCAL_ENV = Path(".local") / "env"


def _load_local_env() -> None:
    for folder in [Path.cwd(), *Path.cwd().parents]:
        candidate = folder / LOCAL_ENV
        if candidate.is_file():
            for line in candidate.read_text().splitlines():
                name, sep, value = line.partition("=")
                if sep and name.strip() and not name.startswith("#"):
                    os.environ.setdefault(name.strip(), value.strip())
            return


def _emulated_aws(enabled: bool) -> AbstractContextManager[Any]:
    """moto in-process, with the project's resources created, when ``enabled``."""
    if not enabled:
        return nullcontext()
    try:
        from moto import mock_aws
    except ImportError:
        sys.exit("--emulate-aws needs the development dependencies (pip install -e '.[dev]')")
    from crm_dev.aws_resources import apply_local_defaults, provision

    os.environ.pop("AWS_ENDPOINT_URL", None)
    apply_local_defaults(fake_credentials=True)
    mock = mock_aws()
    mock.start()
    provision()
    print("note: AWS emulated in-process (moto); nothing is sent to AWS", file=sys.stderr)

    class _Stop(AbstractContextManager[Any]):
        def __exit__(self, *exc: object) -> None:
            mock.stop()

    return _Stop()


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False, default=str))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """``crm-actions db upgrade``."""
    from crm_core.db.migrate import upgrade

    upgrade(args.url)  # default: the schema owner's URL (MIGRATION_DATABASE_URL, else DATABASE_URL)
    print("database is at the latest migration", file=sys.stderr)
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    """``crm-actions catalog``."""
    from crm_core.catalog import build_catalog

    _print_json(build_catalog())
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    """``crm-actions invoke``: the result on stdout, or the error as JSON with exit status 1."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from crm_core.errors import ActionFailure, ValidationError
    from crm_core.runtime import build_handler, get_spec
    from crm_dev.lambda_context import LocalLambdaContext

    try:
        event = json.loads(Path(args.event).read_text())
        spec = get_spec(args.action_id)
    except (OSError, json.JSONDecodeError) as exc:
        _print_json(ValidationError(f"Cannot read event file: {exc}", {"event": args.event}).to_dict())
        return 1
    except ActionFailure as failure:
        _print_json(failure.to_dict())
        return 1
    with _emulated_aws(args.emulate_aws):
        handler = build_handler(spec)
        try:
            result = handler(event, LocalLambdaContext(spec.name))
        except ActionFailure as failure:
            _print_json({"errorType": type(failure).__name__, **failure.to_dict()})
            return 1
        except Exception as exc:  # e.g. IdempotencyAlreadyInProgressError
            _print_json({"errorType": type(exc).__name__, "message": str(exc)})
            return 1
    _print_json(result)
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    """``crm-actions relay``: deliver pending outbox events once."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from crm_core.runtime.relay import build_relay_handler
    from crm_dev.lambda_context import LocalLambdaContext

    with _emulated_aws(args.emulate_aws):
        _print_json(build_relay_handler()({}, LocalLambdaContext("publish-events")))
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    """``crm-actions approve``: crm.approve_quote as the approver, then the answer to the waiting task token.

    Step Functions is the one of ``AWS_ENDPOINT_URL`` (a local emulator) or of the AWS account of the credentials.
    Prints what was done; nothing waiting, or the action's refusal, is printed as JSON with exit status 1.
    """
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from crm_core.errors import ActionFailure
    from crm_dev.approvals import NoApprovalWaiting, decide

    try:
        result = decide(args.tenant, args.approver, args.quote, args.decision, args.comment)
    except NoApprovalWaiting as exc:
        _print_json({"errorType": "NoApprovalWaiting", "message": str(exc)})
        return 1
    except ActionFailure as failure:
        _print_json({"errorType": type(failure).__name__, **failure.to_dict()})
        return 1
    _print_json(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``crm-actions``."""
    parser = argparse.ArgumentParser(prog="crm-actions", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database commands").add_subparsers(dest="db_command", required=True)
    upgrade = db.add_parser(
        "upgrade", help="apply all migrations as the schema owner (MIGRATION_DATABASE_URL, else DATABASE_URL)"
    )
    upgrade.add_argument("--url", help="database URL (default: MIGRATION_DATABASE_URL, else DATABASE_URL)")
    upgrade.set_defaults(func=cmd_db_upgrade)
    commands.add_parser("catalog", help="print the designer catalog as JSON").set_defaults(func=cmd_catalog)
    invoke = commands.add_parser("invoke", help="run an action's handler locally on an event file")
    invoke.add_argument("action_id", help="e.g. crm.create_activity_note")
    invoke.add_argument("--event", required=True, help="the invocation event (JSON file)")
    invoke.add_argument(
        "--emulate-aws",
        action="store_true",
        help="emulate DynamoDB, EventBridge, S3 and SES in-process with moto",
    )
    invoke.set_defaults(func=cmd_invoke)
    relay = commands.add_parser("relay", help="deliver pending outbox events once")
    relay.add_argument("--emulate-aws", action="store_true", help="emulate EventBridge in-process with moto")
    relay.set_defaults(func=cmd_relay)
    approve = commands.add_parser(
        "approve",
        help="decide on a quote a quote-to-cash execution waits for (crm.approve_quote, then SendTaskSuccess/Failure)",
    )
    approve.add_argument("--tenant", required=True, type=uuid.UUID, help="the tenant id")
    approve.add_argument("--approver", required=True, type=uuid.UUID, help="the approver's user id (not the submitter)")
    approve.add_argument("--quote", required=True, type=uuid.UUID, help="the quote id")
    approve.add_argument("--decision", required=True, choices=["approve", "request_changes", "reject"])
    approve.add_argument("--comment", help="the approver's comment (recorded on the quote)")
    approve.set_defaults(func=cmd_approve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crm-actions`` console script."""
    args = build_parser().parse_args(argv)
    if "DATABASE_URL" not in os.environ:
        _load_local_env()
    if os.environ.get("CRM_EMULATE_AWS") == "1" and hasattr(args, "emulate_aws"):
        args.emulate_aws = True
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
