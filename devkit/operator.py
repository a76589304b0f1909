"""The operator's commands: ``status``, ``enqueue``, ``preview``, ``dlq`` and ``local up`` / ``local drain``: their
arguments, and each run against a deployed stage (``--stage``, the AWS of your credentials) or the local stack
(``--local``, what ``custsync local up`` runs). What each does is in its own module: devkit/status.py,
enqueue.py (rows.py, journal.py, progress.py), preview.py, dlq.py, stack/up.py."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from custsync import routing
from devkit import dlq, status
from devkit.enqueue import Plan, Progress, Summary, default_occurred_at, enqueue, routed_vendors
from devkit.inputs import InputError
from devkit.journal import Journal
from devkit.preview import SyncApi, api_url, as_json, change_from_file, changes_from_event, render
from devkit.progress import RichProgress
from devkit.rows import ColumnMapping, Defaults, file_format
from devkit.stack.local import load_secrets, load_seed
from devkit.stack.session import LocalSession
from devkit.stack.up import drain, run_up
from devkit.target import Target, resolve

OPERATOR_COMMANDS = ("status", "enqueue", "preview", "dlq")


def examples(*lines: str) -> str:
    return "examples:\n" + "".join(f"  {line}\n" for line in lines)


def _target_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stage", help="the deployed stage: stack customer-sync-<stage> in your AWS (default: dev)")
    where.add_argument("--local", action="store_true", help="the local stack `custsync local up` runs")


def _vendor_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--vendor", action="append", metavar="VENDOR", help=f"{what} (repeat for several)")


def add_parsers(commands: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """The operator's subcommands on ``commands`` (the ``custsync`` parser's subparsers)."""
    show = commands.add_parser(
        "status",
        help="a row per vendor: queue depth, in flight, oldest, DLQ, parked in the last hour by reason, last applied",
        epilog=examples("custsync status --stage prod", "custsync status --local --json"),
        formatter_class=formatter,
    )
    _target_options(show)
    show.add_argument("--json", action="store_true", help="one JSON object a vendor instead of the table")

    load = commands.add_parser(
        "enqueue",
        help="queue a CSV or JSON Lines file of customers or changes for the vendors the routing selects",
        description=(
            "Validates every row first (bad rows by line and field; nothing is sent unless --skip-invalid), then "
            "sends each row's change with SendMessageBatch to every vendor the routing selects for its source. "
            "Change ids are derived from row content; the journal of what was queued makes a second run of the "
            "same file queue nothing. Columns: canonical paths (key, email, address.city, attributes.<name>, "
            "vendor_ids.<vendor>, change_id, occurred_at, source) or --mapping. README.md, 'Bulk loads'."
        ),
        epilog=examples(
            "custsync enqueue customers.csv --stage prod --mapping crm-columns.yaml",
            "custsync enqueue changes.jsonl --local --vendor exsalerate",
        ),
        formatter_class=formatter,
    )
    load.add_argument("file", type=Path, help="a .csv or .jsonl file")
    _target_options(load)
    load.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file's extension")
    load.add_argument("--mapping", type=Path, help="YAML: columns: {<column>: <canonical path, or ~ to ignore>}")
    load.add_argument("--source", default="batch", help="the changes' source, for rows without one (default: batch)")
    load.add_argument(
        "--occurred-at",
        type=_timestamp,
        help="ISO-8601 with a zone, for rows without one (default: the file's modification time)",
    )
    _vendor_option(load, "only these of the routed vendors")
    load.add_argument("--routing", type=Path, help="the routing file (default: the one the layer ships)")
    load.add_argument("--check", action="store_true", help="validate every row and report; send nothing")
    load.add_argument("--skip-invalid", action="store_true", help="send the valid rows even when some are not")
    load.add_argument("--requeue", action="store_true", help="send rows the journal says are queued already")
    load.add_argument("--journal", type=Path, help="where what was queued is kept (default: per machine / stack)")
    load.add_argument("--lanes", type=int, default=4, help="concurrent senders per vendor (default: 4)")
    load.add_argument("--no-progress", action="store_true", help="no progress bar")

    look = commands.add_parser(
        "preview",
        help="the exact request each vendor would receive for a change, secrets masked; nothing is sent",
        description=(
            "Asks each vendor function through the sync API's ?dryRun=true (signed with your AWS credentials for a "
            "stage), so it is what the function would send now, given its state table."
        ),
        epilog=examples(
            "custsync preview --local --event events/webhook/01-shopify-customers-update.json",
            "custsync preview --stage dev --vendor centra --change change.json",
        ),
        formatter_class=formatter,
    )
    given = look.add_mutually_exclusive_group(required=True)
    given.add_argument("--event", type=Path, help="a webhook as API Gateway passes it (events/webhook/*.json)")
    given.add_argument("--change", type=Path, help="a CustomerChange JSON file")
    _vendor_option(look, "these vendors (default: those the routing selects for the change's source)")
    _target_options(look)
    look.add_argument("--api-url", help="the sync API's base URL (default: the stack's ApiUrl output)")
    look.add_argument("--json", action="store_true", help="each vendor's dry-run answer as JSON")

    queue = commands.add_parser(
        "dlq",
        help="a vendor's parked changes: list, count by reason, redrive a selection",
        epilog=examples(
            "custsync dlq counts exsalerate --stage prod",
            "custsync dlq list exsalerate --reason 'answered HTTP 400' --limit 20",
            "custsync dlq redrive everlytic --customer hubspot:5101 --local",
        ),
        formatter_class=formatter,
    )
    actions = queue.add_subparsers(dest="action", required=True)
    for action, text in (
        ("list", "the parked changes, one JSON object a line, with reason, error type and customer"),
        ("counts", "how many are parked, by error type and reason"),
        ("redrive", "send the selected parked changes back to the vendor's queue"),
    ):
        command = actions.add_parser(action, help=text, epilog=queue.epilog, formatter_class=formatter)
        command.add_argument("vendor")
        _target_options(command)
        if action != "counts":
            command.add_argument("--reason", help="only those whose reason holds this text (any case)")
            command.add_argument("--customer", help="only this customer key's")
        default = {"list": 100, "counts": 10_000, "redrive": None}[action]
        command.add_argument("--limit", type=int, default=default, help=f"at most this many (default: {default})")


def add_local_parsers(local: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """``custsync local up`` and ``custsync local drain``."""
    up = local.add_parser(
        "up",
        help="run the local stack until stopped: moto, the simulators, the API; --local commands use it",
        epilog=examples("custsync local up &", "custsync status --local"),
        formatter_class=formatter,
    )
    up.add_argument("--secrets", type=Path, help="secret name -> value JSON (default: local/secrets.json)")
    up.add_argument("--state", type=Path, help="where to record it (default: .custsync/local-stack.json)")
    down = local.add_parser(
        "drain",
        help="deliver each vendor's queue to its function under the emulator until empty (as Lambda would)",
        epilog=examples("custsync local drain", "custsync local drain --vendor exsalerate"),
        formatter_class=formatter,
    )
    _vendor_option(down, "only these vendors' queues")
    down.add_argument("--state", type=Path, help="the local stack's record (default: .custsync/local-stack.json)")


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no zone (add Z or +01:00)")
    return moment


def run_local(root: Path, args: argparse.Namespace) -> int:
    state = args.state or LocalSession.default_path(root)
    if args.action == "up":
        run_up(root, load_secrets(args.secrets or root / "local" / "secrets.json"), state, sys.stdout, load_seed(root))
        return 0
    deliveries = drain(root, LocalSession.read(state), args.vendor or [], sys.stdout)
    return 0 if all(delivery.failed == 0 for delivery in deliveries.values()) else 1


def run(root: Path, args: argparse.Namespace) -> int:
    target = resolve(root, args.stage, args.local)
    if args.command == "status":
        return _status(target, args)
    if args.command == "enqueue":
        return _enqueue(target, args)
    if args.command == "preview":
        return _preview(target, args)
    return _dlq(target, args)


def _status(target: Target, args: argparse.Namespace) -> int:
    rows = status.status(target)
    if args.json:
        for row in rows:
            print(json.dumps(row.as_dict()))
    else:
        Console().print(status.table(rows, target.stage))
    return 0


def _enqueue(target: Target, args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if args.lanes < 1:
        raise InputError("--lanes: must be at least 1")
    routes = routing.parse(args.routing.read_text(), str(args.routing)) if args.routing else routing.current()
    plan = Plan(
        path=path,
        fmt=file_format(path, args.format),
        mapping=ColumnMapping.load(args.mapping) if args.mapping else ColumnMapping(),
        defaults=Defaults(args.source, args.occurred_at or default_occurred_at(path)),
        vendors=routed_vendors(routes, args.source, target.vendors, args.vendor),
        skip_invalid=args.skip_invalid,
        check_only=args.check,
        use_journal=not args.requeue,
        lanes=args.lanes,
    )
    console = Console(stderr=True)
    with Journal(args.journal or target.journal_path) as journal:
        if args.no_progress:
            summary = enqueue(target, plan, Progress(), journal)
        else:
            with RichProgress(console) as progress:
                summary = enqueue(target, plan, progress, journal)
    for problem in summary.validation.problems:
        print(f"{path}:{problem}", file=sys.stderr)
    invalid = summary.validation.invalid
    if plan.check_only:
        print(f"{summary.validation.rows} row(s), {invalid} invalid; nothing sent (--check)")
        return 1 if invalid else 0
    if invalid and not plan.skip_invalid:
        raise InputError(
            f"{path}: {invalid} invalid row(s), nothing sent; fix them, or send the rest with --skip-invalid"
        )
    Console().print(_summary_table(summary, plan))
    print(_summary_line(summary))
    return 1 if sum(summary.failed.values()) else 0


def _summary_table(summary: Summary, plan: Plan) -> Table:
    table = Table(title="queued", title_justify="left")
    for column in ("vendor", "queued now", "queued before (journal)", "failed"):
        table.add_column(column, justify="left" if column == "vendor" else "right")
    for vendor in plan.vendors:
        table.add_row(vendor, str(summary.queued[vendor]), str(summary.already[vendor]), str(summary.failed[vendor]))
    return table


def _summary_line(summary: Summary) -> str:
    checked = summary.validation
    rate = checked.rows / summary.seconds if summary.seconds else 0.0
    parts = [
        f"{checked.rows} row(s), {checked.invalid} invalid (skipped)",
        f"{summary.repeated_rows} repeated in the file",
        f"{sum(summary.queued.values())} message(s) queued",
        f"{sum(summary.already.values())} already queued",
        f"in {summary.seconds:.1f} s ({rate:,.0f} rows/s)",
    ]
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    return "; ".join(parts)


def _preview(target: Target, args: argparse.Namespace) -> int:
    changes = changes_from_event(args.event) if args.event else [change_from_file(args.change)]
    known = target.vendors
    api = SyncApi(args.api_url or api_url(target), signed=not target.local)
    refused = 0
    try:
        for change in changes:
            source_vendors = routed_vendors(routing.current(known), change.source, known, args.vendor)
            for vendor in source_vendors:
                answer = api.dry_run(vendor, change)
                refused += answer.status != 200
                print(as_json(answer) if args.json else render(answer))
    finally:
        api.close()
    return 1 if refused else 0


def _dlq(target: Target, args: argparse.Namespace) -> int:
    if args.vendor not in target.vendors:
        raise InputError(f"vendor: {args.vendor!r} is not a vendor ({', '.join(target.vendors)})")
    if args.limit is not None and args.limit < 1:
        raise InputError("--limit: must be at least 1")
    dlq_url = target.queue_url(args.vendor, dlq=True)
    if args.action == "counts":
        read = dlq.peek(target.sqs, dlq_url, args.limit)
        table = Table(title=f"{args.vendor} DLQ ({target.stage}): {dlq.depth(target.sqs, dlq_url)} parked")
        for column in ("count", "error type", "reason"):
            table.add_column(column, justify="right" if column == "count" else "left")
        for (error_type, kind), count in dlq.counts(read).most_common():
            table.add_row(str(count), error_type, kind)
        Console().print(table)
        print(f"{len(read)} read")
        return 0
    selection = dlq.Selection(args.reason, args.customer)
    if args.action == "list":
        for parked in dlq.peek(target.sqs, dlq_url, args.limit, selection):
            print(json.dumps(parked.as_dict()))
        return 0
    moved = dlq.redrive(target.sqs, dlq_url, target.queue_url(args.vendor), selection, args.limit)
    print(f"redrove {moved} message(s) from the {args.vendor} DLQ")
    return 0
