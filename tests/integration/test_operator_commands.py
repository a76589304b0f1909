"""The operator's custsync commands against the local stack's queues (moto), as `--stage local` reaches them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.bulk_sample import write_csv
from devkit.cli import main
from flow import ALL_VENDORS, VENDOR_FUNCTIONS, change, pump, queue, queue_depth

FUNCTION = "ExsalerateFunction"


def park(stack: Any, handler: Any, context: Any, *changes: Any, status: int = 400, message: str = "Rejected") -> None:
    """Queue ``changes`` for Exsalerate and have each refused, so each is parked with Exsalerate's reason."""
    stack.simulators["exsalerate"].faults.add(
        "status", status=status, message=message, method="PUT", count=len(changes)
    )
    queue(stack, FUNCTION, *changes)
    pump(stack, FUNCTION, handler, context)


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"messageId"')]


def test_dlq_list_shows_why_and_redrive_moves_parked_changes_back(
    stack: Any, exsalerate: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    park(
        stack, exsalerate, lambda_context, change("p-1", "2026-11-20T09:00:00Z", {"key": "P1", "company": "Parked AB"})
    )

    assert main(["dlq", "list", "exsalerate", "--stage", "local"]) == 0
    (parked,) = listed(capsys)
    assert (parked["errorType"], parked["vendor"], parked["customerKey"], parked["changeId"]) == (
        "PermanentError",
        "exsalerate",
        "P1",
        "p-1",
    )
    assert "Rejected" in parked["reason"]

    assert main(["dlq", "redrive", "exsalerate", "--stage", "local"]) == 0
    assert "redrove 1 message(s)" in capsys.readouterr().out
    assert queue_depth(stack, FUNCTION) == 1
    assert pump(stack, FUNCTION, exsalerate, lambda_context).failed == 0
    assert [r["CustomerName"] for r in stack.simulators["exsalerate"].records.values()] == ["Parked AB"]
    assert main(["dlq", "list", "exsalerate", "--stage", "local"]) == 0
    assert listed(capsys) == []


def test_dlq_counts_by_reason_filters_and_redrives_only_a_selection(
    stack: Any, exsalerate: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    at = "2026-11-20T09:00:00Z"
    park(
        stack,
        exsalerate,
        lambda_context,
        *(change(f"r-{n}", at, {"key": f"R{n}", "company": "R AB"}) for n in range(3)),
    )
    park(
        stack,
        exsalerate,
        lambda_context,
        change("c-1", at, {"key": "C1", "company": "C AB"}),
        status=409,
        message="Conflict",
    )
    too_long = change("n-1", at, {"key": "N1", "company": "N" * 300})  # refused before any call: CustomerName
    queue(stack, FUNCTION, too_long)
    pump(stack, FUNCTION, exsalerate, lambda_context)

    assert main(["dlq", "counts", "exsalerate", "--stage", "local"]) == 0
    out = capsys.readouterr().out
    assert "5 parked" in out
    rows = [[cell.strip() for cell in line.split("│")[1:4]] for line in out.splitlines() if line.startswith("│")]
    assert sorted(rows) == [
        ["1", "PermanentError", "exsalerate answered HTTP 409"],
        ["1", "ValidationFailed", "CustomerName"],
        ["3", "PermanentError", "exsalerate answered HTTP 400"],
    ]

    assert main(["dlq", "list", "exsalerate", "--stage", "local", "--reason", "http 400"]) == 0
    assert sorted(item["customerKey"] for item in listed(capsys)) == ["R0", "R1", "R2"]
    assert main(["dlq", "list", "exsalerate", "--stage", "local", "--customer", "C1"]) == 0
    assert [item["changeId"] for item in listed(capsys)] == ["c-1"]

    assert main(["dlq", "redrive", "exsalerate", "--stage", "local", "--reason", "HTTP 400", "--limit", "2"]) == 0
    assert "redrove 2 message(s)" in capsys.readouterr().out
    assert queue_depth(stack, FUNCTION) == 2
    assert main(["dlq", "list", "exsalerate", "--stage", "local"]) == 0
    left = listed(capsys)
    assert len(left) == 3, "the rest stay parked, and show again"
    assert sum("HTTP 400" in item["reason"] for item in left) == 1


def test_enqueue_queues_each_row_once_for_every_routed_vendor_and_a_second_run_none(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = write_csv(tmp_path / "customers.csv", 40)
    journal = tmp_path / "journal.sqlite3"
    command = ["enqueue", str(customers), "--stage", "local", "--journal", str(journal), "--no-progress"]

    assert main(command) == 0
    out = capsys.readouterr().out
    messages = 40 * len(ALL_VENDORS)
    assert f"40 row(s), 0 invalid (skipped); 0 repeated in the file; {messages} message(s) queued; 0 already" in out
    for vendor in ALL_VENDORS:
        assert queue_depth(stack, f"{vendor.capitalize()}Function") == 40, vendor
    bodies = received(stack, "EverlyticFunction")
    assert len({body["change_id"] for body in bodies}) == 10  # one receive; every id distinct, derived
    assert all(body["source"] == "batch" and body["change_id"].startswith("bulk-") for body in bodies)

    assert main(command) == 0
    assert f"0 message(s) queued; {messages} already queued" in capsys.readouterr().out
    for vendor in ALL_VENDORS:
        assert queue_depth(stack, f"{vendor.capitalize()}Function") == 40, vendor


def received(stack: Any, function: str) -> list[dict[str, Any]]:
    url, _ = stack.queue_of(function)
    messages = stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    return [json.loads(message["Body"]) for message in messages]


def test_enqueue_sends_nothing_while_a_row_is_invalid_and_the_rest_with_skip_invalid(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "changes.jsonl"
    good = change("b-1", "2026-11-20T09:00:00Z", {"key": "B1", "company": "Batch AB"}).model_dump_json(
        exclude_unset=True
    )
    bad = json.dumps(
        {"change_id": "b-2", "occurred_at": "2026-11-20T09:00:00Z", "customer": {"key": "B2", "email": "x"}}
    )
    path.write_text(f"{good}\n\n{bad}\n{good}\n")
    command = ["enqueue", str(path), "--stage", "local", "--vendor", "exsalerate", "--journal", str(tmp_path / "j")]

    with pytest.raises(SystemExit) as refused:
        main([*command, "--no-progress"])
    assert refused.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}:line 3: email: value is not a valid email address: An email address must have an @-sign."
    assert (
        err[-1]
        == f"custsync: error: {path}: 1 invalid row(s), nothing sent; fix them, or send the rest with --skip-invalid"
    )
    assert queue_depth(stack, FUNCTION) == 0

    assert main([*command, "--no-progress", "--skip-invalid"]) == 0
    assert "3 row(s), 1 invalid (skipped); 1 repeated in the file; 1 message(s) queued" in capsys.readouterr().out
    assert queue_depth(stack, FUNCTION) == 1
    assert [body["change_id"] for body in received(stack, FUNCTION)] == ["b-1"]


def test_enqueue_sends_a_routed_sources_rows_to_its_vendors_only(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text("sources:\n  crm:\n    vendors: [exigo, centra]\n")
    customers = write_csv(tmp_path / "customers.csv", 3)
    command = ["enqueue", str(customers), "--stage", "local", "--source", "crm", "--routing", str(routing)]
    assert main([*command, "--journal", str(tmp_path / "j"), "--no-progress"]) == 0
    assert "6 message(s) queued" in capsys.readouterr().out
    depths = {vendor: queue_depth(stack, f"{vendor.capitalize()}Function") for vendor in ALL_VENDORS}
    assert depths == {vendor: 3 if vendor in ("exigo", "centra") else 0 for vendor in ALL_VENDORS}
    assert {body["source"] for body in received(stack, "ExigoFunction")} == {"crm"}


def test_forget_queues_an_erasure_for_every_vendor_and_the_function_forgets_the_customer(
    stack: Any, exsalerate: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    queue(
        stack, FUNCTION, change("f-1", "2026-11-20T09:00:00Z", {"key": "F1", "company": "Forget AB", "email": "f@x.io"})
    )
    pump(stack, FUNCTION, exsalerate, lambda_context)

    assert main(["forget", "F1", "--local"]) == 0

    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("queued")]
    assert line.startswith("queued erasure forget:") and line.endswith(f" of F1 for {', '.join(ALL_VENDORS)}")
    assert [queue_depth(stack, function) for function in VENDOR_FUNCTIONS.values()] == [1] * len(ALL_VENDORS)
    assert pump(stack, FUNCTION, exsalerate, lambda_context).failed == 0
    row = boto3.client("dynamodb").get_item(
        TableName=stack.physical["SyncStateTable"]["Ref"],
        Key={"vendor": {"S": "exsalerate"}, "customer_key": {"S": "F1"}},
    )["Item"]
    assert row["customer"] == {"S": ""}
    assert "Forget AB" not in json.dumps(row) and "f@x.io" not in json.dumps(row)
