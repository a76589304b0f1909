"""The ``custsync`` command: the local stack and the operator's tools.

custsync local invoke <LogicalId> --event PATH [--event PATH...] [--secrets PATH]
custsync demo [--secrets PATH]
custsync routes check [--routing PATH] [--event PATH]
custsync chaos [--changes N] [--customers N] [--outage-seconds S] [--kills N] [--seed N] [--secrets PATH]
custsync dlq list <vendor> [--stage STAGE]
custsync dlq redrive <vendor> [--stage STAGE]
custsync batch send <vendor> FILE.jsonl [--stage STAGE]
custsync secrets put --secret NAME --file FILE [--stage STAGE]
custsync secrets check [NAME...] [--stage STAGE] [--local]
custsync forget KEY [--stage STAGE | --local]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from custsync.errors import ConfigurationError
from custsync.sources import BadPayload
from devkit import forget, operator
from devkit import secrets as secrets_command
from devkit.chaos import ChaosConfig, run_chaos
from devkit.demo import WEBHOOK_FUNCTION, WEBHOOK_SECRET, run_demo, signed_for
from devkit.inputs import InputError, read_json_object
from devkit.routes import check as routes_check
from devkit.stack.local import LocalStack, load_secrets, load_seed, on_free_ports
from devkit.stack.template import Template

ROOT = Path(__file__).resolve().parents[1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custsync", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder (holds template.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run functions on the local stack").add_subparsers(
        dest="action", required=True
    )
    invoke = local.add_parser("invoke", help="invoke one function under the Lambda Runtime Interface Emulator")
    invoke.add_argument("logical_id", help="the function's logical id in template.yaml, e.g. ExsalerateFunction")
    invoke.add_argument(
        "--event",
        type=Path,
        required=True,
        action="append",
        help="the event JSON, e.g. events/exsalerate/sqs-batch.json; several run in order on one warm function",
    )
    invoke.add_argument("--secrets", type=Path, help="secret name -> value JSON (default: local/secrets.json)")

    demo = commands.add_parser("demo", help="the sample webhooks through the whole local stack")
    demo.add_argument("--secrets", type=Path, help="secret name -> value JSON (default: local/secrets.json)")

    routes = commands.add_parser("routes", help="the routing file").add_subparsers(dest="action", required=True)
    routes_check = routes.add_parser("check", help="validate the routing; show which vendors get which fields")
    routes_check.add_argument("--routing", type=Path, help="a routing file (default: the one the layer ships)")
    routes_check.add_argument("--event", type=Path, help="an API Gateway webhook event, e.g. events/webhook/01-*.json")

    chaos = commands.add_parser("chaos", help="many changes through the local stack while everything goes wrong")
    defaults = ChaosConfig()
    chaos.add_argument("--changes", type=int, default=defaults.changes)
    chaos.add_argument("--customers", type=int, default=defaults.customers)
    chaos.add_argument("--outage-seconds", type=float, default=defaults.outage_seconds)
    chaos.add_argument("--kills", type=int, default=defaults.kills)
    chaos.add_argument("--seed", type=int, default=defaults.seed)
    chaos.add_argument("--secrets", type=Path, help="secret name -> value JSON (default: local/secrets.json)")

    dlq = commands.add_parser("dlq", help="inspect or redrive a vendor's dead-letter queue").add_subparsers(
        dest="action", required=True
    )
    for action in ("list", "redrive"):
        command = dlq.add_parser(action)
        command.add_argument("vendor")
        command.add_argument("--stage", default="dev")

    batch = commands.add_parser("batch", help="queue operator batch updates").add_subparsers(
        dest="action", required=True
    )
    send = batch.add_parser("send", help="validate a JSON-lines file of CustomerChange and queue it for a vendor")
    send.add_argument("vendor")
    send.add_argument("file", type=Path)
    send.add_argument("--stage", default="dev")

    secrets_command.add_parser(commands)
    erase = commands.add_parser("forget", help="erase a customer's personal data from every vendor function's keeping")
    erase.add_argument("key", help="the customer key, as the vendor queues carry it (e.g. hubspot:5101)")
    where = erase.add_mutually_exclusive_group()
    where.add_argument("--stage", default="dev")
    where.add_argument("--local", action="store_true", help="the local stack (its moto at AWS_ENDPOINT_URL)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (InputError, ConfigurationError, BadPayload) as exc:
        parser.exit(2, f"custsync: error: {exc}\n")
    except (BotoCoreError, ClientError) as exc:
        parser.exit(2, f"custsync: error: AWS: {exc}\n")


def _run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if args.command == "local":
        Template(root / "template.yaml").function(args.logical_id)  # an unknown id fails before anything starts
        secrets = load_secrets(args.secrets or root / "local" / "secrets.json")
        events = [read_json_object(path, "(a Lambda event)") for path in args.event]
        if args.logical_id == WEBHOOK_FUNCTION:  # signed now, with the local secret, as the demo does
            events = [signed_for(event, secrets.get(WEBHOOK_SECRET) or {}) for event in events]
        with LocalStack(root, secrets, seed=load_seed(root)) as stack:
            responses = [stack.invoke(args.logical_id, event) for event in events]
        print(json.dumps(responses[0] if len(responses) == 1 else responses, indent=2))
        # Lambda's error payload: the function raised, timed out or its runtime exited.
        return 1 if any(isinstance(r, dict) and "errorType" in r for r in responses) else 0
    if args.command == "demo":
        run_demo(root, load_secrets(args.secrets or root / "local" / "secrets.json"), sys.stdout, load_seed(root))
        return 0
    if args.command == "routes":
        return routes_check(root, args.routing, args.event, sys.stdout)
    if args.command == "chaos":
        config = ChaosConfig(
            changes=args.changes,
            customers=args.customers,
            outage_seconds=args.outage_seconds,
            kills=args.kills,
            seed=args.seed,
        )
        secrets = on_free_ports(load_secrets(args.secrets or root / "local" / "secrets.json"))
        report = run_chaos(root, secrets, config, sys.stdout)
        return 0 if report.passed else 1
    if args.command == "secrets":
        return secrets_command.run(root, args, sys.stdout)
    if args.command == "dlq":
        if args.action == "list":
            for parked in operator.list_dlq(args.vendor, args.stage):
                print(json.dumps(parked))
            return 0
        moved = operator.redrive(args.vendor, args.stage)
        print(f"redrove {moved} message(s) from the {args.vendor} DLQ")
        return 0
    if args.command == "forget":
        queued = forget.forget(root, args.key, forget.stage_of(args.stage, args.local))
        print(f"queued erasure {queued.change_id} of {args.key} for {', '.join(queued.vendors)}")
        return 0
    if not args.file.is_file():
        raise InputError(f"{args.file}: no such file")
    problems, sent = operator.send_batch(args.vendor, args.stage, args.file)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"queued {sent} change(s) for {args.vendor}; {len(problems)} line(s) refused")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
