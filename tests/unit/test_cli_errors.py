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


def test_a_missing_batch_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert refusal(capsys, "batch", "send", "exsalerate", str(tmp_path / "changes.jsonl")).endswith(
        "changes.jsonl: no such file"
    )


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
