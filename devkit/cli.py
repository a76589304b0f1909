"""The ``custsync`` command: the local stack and the operator's tools.

custsync local invoke <LogicalId> --event PATH [--event PATH...] [--secrets PATH]
custsync demo [--secrets PATH]
custsync routes check [--routing PATH] [--event PATH]
custsync chaos [--changes N] [--customers N] [--outage-seconds S] [--kills N] [--seed N] [--secrets PATH]
custsync local up | local drain [--vendor V]
custsync status [--stage S | --local]
custsync enqueue FILE [--stage S | --local] [--mapping PATH] [--vendor V] [--skip-invalid]
custsync preview (--event PATH | --change PATH) [--vendor V] [--stage S | --local]
custsync dlq list|counts|redrive <vendor> [--reason TEXT] [--customer KEY] [--stage S | --local]
custsync secrets put --secret NAME --file FILE [--stage STAGE]
custsync secrets check [NAME...] [--stage STAGE] [--local]
custsync forget KEY [--stage STAGE | --local]

Every command's --help has examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from custsync.errors import ConfigurationError
from custsync.sources import BadPayload
from devkit import forget, operator
from devkit import secrets as secrets_command
from devkit.chaos import ChaosConfig, run_chaos
from devkit.demo import WEBHOOK_FUNCTION, WEBHOOK_SECRET, run_demo, signed_for
from devkit.inputs import InputError, read_json_object
from devkit.operator import examples
from devkit.routes import check as routes_check
from devkit.stack.local import LocalStack, load_secrets, load_seed, on_free_ports
from devkit.stack.template import Template

ROOT = Path(__file__).resolve().parents[1]


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="custsync", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder (holds template.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run functions on the local stack").add_subparsers(
        dest="action", required=True
    )
    invoke = local.add_parser(
        "invoke",
        help="invoke one function under the Lambda Runtime Interface Emulator",
        epilog=examples("custsync local invoke ExsalerateFunction --event events/exsalerate/sqs-batch.json"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    invoke.add_argument("logical_id", help="the function's logical id in template.yaml, e.g. ExsalerateFunction")
    invoke.add_argument(
        "--event",
        type=Path,
        required=True,
        action="append",
        help="the event JSON, e.g. events/exsalerate/sqs-batch.json; several run in order on one warm function",
    )
    invoke.add_argument("--secrets", type=Path, help="secret name -> value JSON (default: local/secrets.json)")
    operator.add_local_parsers(local, argparse.RawDescriptionHelpFormatter)

    demo = commands.add_parser(
        "demo",
        help="the sample webhooks through the whole local stack",
        epilog=examples("custsync demo"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--secrets", type=Path, help="secret name -> value JSON (default: local/secrets.json)")

    routes = commands.add_parser("routes", help="the routing file").add_subparsers(dest="action", required=True)
    check = routes.add_parser(
        "check",
        help="validate the routing; show which vendors get which fields",
        epilog=examples("custsync routes check --event events/webhook/05-hubspot-contact-property-changes.json"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--routing", type=Path, help="a routing file (default: the one the layer ships)")
    check.add_argument("--event", type=Path, help="an API Gateway webhook event, e.g. events/webhook/01-*.json")

    chaos = commands.add_parser(
        "chaos",
        help="many changes through the local stack while everything goes wrong",
        epilog=examples("custsync chaos --changes 500 --customers 50"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = ChaosConfig()
    chaos.add_argument("--changes", type=int, default=defaults.changes)
    chaos.add_argument("--customers", type=int, default=defaults.customers)
    chaos.add_argument("--outage-seconds", type=float, default=defaults.outage_seconds)
    chaos.add_argument("--kills", type=int, default=defaults.kills)
    chaos.add_argument("--seed", type=int, default=defaults.seed)
    chaos.add_argument("--secrets", type=Path, help="secret name -> value JSON (default: local/secrets.json)")

    operator.add_parsers(commands, argparse.RawDescriptionHelpFormatter)
    secrets_command.add_parser(commands)
    erase = commands.add_parser(
        "forget",
        help="erase a customer's personal data from every vendor function's keeping",
        epilog=examples("custsync forget hubspot:5101 --stage prod", "custsync forget shopify:207119551 --local"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    erase.add_argument("key", help="the customer key, as the vendor queues carry it (e.g. hubspot:5101)")
    where = erase.add_mutually_exclusive_group()
    where.add_argument("--stage", default="dev")
    where.add_argument("--local", action="store_true", help="the local stack (its moto at AWS_ENDPOINT_URL)")
    return parser


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line naming it, and exit 2, like any other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"custsync: error: {message} (see `{self.prog} --help`)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (InputError, ConfigurationError, BadPayload) as exc:
        parser.exit(2, f"custsync: error: {exc}\n")
    except (BotoCoreError, ClientError) as exc:
        parser.exit(2, f"custsync: error: AWS: {exc}\n")
    except httpx.HTTPError as exc:
        parser.exit(2, f"custsync: error: API: {type(exc).__name__}: {exc}\n")
    except KeyboardInterrupt:
        parser.exit(130, "custsync: interrupted\n")


def _run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if args.command == "local" and args.action != "invoke":
        return operator.run_local(root, args)
    if args.command in operator.OPERATOR_COMMANDS:
        return operator.run(root, args)
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
    if args.command == "forget":
        queued = forget.forget(root, args.key, forget.stage_of(args.stage, args.local))
        print(f"queued erasure {queued.change_id} of {args.key} for {', '.join(queued.vendors)}")
        return 0
    raise InputError(f"{args.command}: not a command")  # argparse refuses it first


if __name__ == "__main__":
    sys.exit(main())
