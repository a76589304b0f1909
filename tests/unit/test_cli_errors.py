"""Mistakes in what the ``custsync`` command is given: one line naming the problem, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.cli import main

EVENT = "events/exsalerate/sqs-batch.json"


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("custsync: error: ")
    return line


def test_an_unknown_function_is_named_with_the_ones_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    line = refusal(capsys, "local", "invoke", "NopeFunction", "--event", EVENT)
    assert "NopeFunction is not a function in template.yaml; functions: WebhookFunction, ExsalerateFunction" in line


def test_a_missing_or_malformed_event_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert refusal(capsys, "local", "invoke", "ExsalerateFunction", "--event", str(missing)).endswith(
        f"{missing}: No such file or directory"
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"Records": [')
    assert f"{broken}: not valid JSON (" in refusal(
        capsys, "local", "invoke", "ExsalerateFunction", "--event", str(broken)
    )
    listing = tmp_path / "list.json"
    listing.write_text("[]")
    assert f"{listing}: must be a JSON object" in refusal(
        capsys, "local", "invoke", "ExsalerateFunction", "--event", EVENT, "--secrets", str(listing)
    )


def test_a_missing_bulk_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert refusal(capsys, "enqueue", str(tmp_path / "changes.jsonl")).endswith("changes.jsonl: no such file")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["enqueue"], "the following arguments are required: file (see `custsync enqueue --help`)"),
        (["status", "--stage", "dev", "--local"], "argument --local: not allowed with argument --stage"),
        (
            ["preview", "--change", "a.json", "--event", "b.json"],
            "argument --event: not allowed with argument --change",
        ),
        (["preview"], "one of the arguments --event --change is required"),
        (["dlq", "purge", "exsalerate"], "argument action: invalid choice: 'purge'"),
        (
            ["enqueue", "x.csv", "--occurred-at", "2026-11-20T09:00"],
            "argument --occurred-at: '2026-11-20T09:00' has no zone",
        ),
        (["nope"], "argument command: invalid choice: 'nope'"),
    ],
)
def test_a_usage_mistake_is_one_line_naming_it(capsys: pytest.CaptureFixture[str], argv: list[str], named: str) -> None:
    assert named in refusal(capsys, *argv)


def test_a_file_the_enqueue_cannot_read_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    odd = tmp_path / "customers.txt"
    odd.write_text("key\nC1\n")
    assert "cannot tell the format from its name: give --format csv or --format jsonl" in refusal(
        capsys, "enqueue", str(odd)
    )
    bad_header = tmp_path / "customers.csv"
    bad_header.write_text("key,Shoe size\nC1,44\n")
    assert "line 1: column 'Shoe size' is not a canonical field: map it with --mapping" in refusal(
        capsys, "enqueue", str(bad_header)
    )
    mapping = tmp_path / "columns.yaml"
    mapping.write_text("columns: {Shoe size: shoe_size}\n")
    assert "columns: Shoe size: 'shoe_size' is not a canonical path" in refusal(
        capsys, "enqueue", str(bad_header), "--mapping", str(mapping)
    )


def test_a_local_command_without_a_local_stack_says_how_to_start_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTSYNC_LOCAL_STATE", str(tmp_path / "stack.json"))
    line = refusal(capsys, "status", "--local")
    assert line.endswith("not found): start one with `custsync local up`")
    (tmp_path / "stack.json").write_text("{}")
    assert "not a local stack's state" in refusal(capsys, "dlq", "list", "exsalerate", "--local")


def test_an_unreachable_aws_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from devkit.stack.emulator import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert "custsync: error: AWS: Could not connect to the endpoint URL" in refusal(capsys, "dlq", "list", "exsalerate")


def test_forget_names_a_key_that_is_no_customer_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert refusal(capsys, "forget", "ada lovelace", "--stage", "dev").startswith(
        "custsync: error: KEY: String should match pattern"
    )


def test_forget_local_needs_the_local_stacks_endpoint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert refusal(capsys, "forget", "shopify:1", "--local").endswith(
        "--local: set AWS_ENDPOINT_URL to the local stack's moto endpoint"
    )


def test_forget_takes_a_stage_or_local_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["forget", "shopify:1", "--stage", "prod", "--local"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
