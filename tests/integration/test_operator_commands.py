"""The operator's custsync commands against the local stack's queues (moto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.cli import main
from flow import ALL_VENDORS, VENDOR_FUNCTIONS, change, dlq_messages, pump, queue, queue_depth

FUNCTION = "ExsalerateFunction"


def test_dlq_list_shows_why_and_redrive_moves_parked_changes_back(
    stack: Any, exsalerate: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.simulators["exsalerate"].faults.add("status", status=400, message="Rejected", method="PUT")
    queue(stack, FUNCTION, change("p-1", "2026-11-20T09:00:00Z", {"key": "P1", "company": "Parked AB"}))
    pump(stack, FUNCTION, exsalerate, lambda_context)

    assert main(["dlq", "list", "exsalerate", "--stage", "local"]) == 0
    output = capsys.readouterr().out.splitlines()
    (listed,) = [json.loads(line) for line in output if '"messageId"' in line]
    assert (listed["errorType"], listed["vendor"]) == ("PermanentError", "exsalerate")
    assert "Rejected" in listed["reason"]

    assert main(["dlq", "redrive", "exsalerate", "--stage", "local"]) == 0
    assert "redrove 1 message(s)" in capsys.readouterr().out
    assert queue_depth(stack, FUNCTION) == 1
    assert pump(stack, FUNCTION, exsalerate, lambda_context).failed == 0
    assert [r["CustomerName"] for r in stack.simulators["exsalerate"].records.values()] == ["Parked AB"]
    assert dlq_messages(stack, FUNCTION) == []


def test_batch_send_queues_valid_lines_and_names_the_bad_ones(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = change("b-1", "2026-11-20T09:00:00Z", {"key": "B1", "company": "Batch AB"}).model_dump_json(
        exclude_unset=True
    )
    bad = json.dumps(
        {
            "change_id": "b-2",
            "source": "batch",
            "occurred_at": "2026-11-20T09:00:00Z",
            "customer": {"key": "B2", "email": "nope"},
        }
    )
    path = tmp_path / "changes.jsonl"
    path.write_text(f"{good}\n\n{bad}\n")

    assert main(["batch", "send", "exsalerate", str(path), "--stage", "local"]) == 1

    captured = capsys.readouterr()
    assert "changes.jsonl:3: customer.email:" in captured.err
    assert "queued 1 change(s) for exsalerate; 1 line(s) refused" in captured.out
    assert queue_depth(stack, FUNCTION) == 1


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
