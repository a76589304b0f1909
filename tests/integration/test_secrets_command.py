"""``custsync secrets put|check`` against the local stack's Secrets Manager (moto): a broken value is never
stored, each stored secret is reported by what it lacks, and no value is ever printed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from conftest import WEBHOOK_SECRET_NAME, WEBHOOK_SECRETS
from devkit.cli import main
from devkit.vendors import vendor_names

EXIGO = "customer-sync/local/exigo"
GOOD_EXIGO = {
    "base_url": "https://acme-api.exigo.com",
    "api": "soap",
    "login_name": "ops",
    "password": "correct-horse-battery",
    "company": "acme",
}


def stored(name: str) -> Any:
    return json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


def store(name: str, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    boto3.client("secretsmanager").put_secret_value(SecretId=name, SecretString=text)


def secret_file(tmp_path: Path, value: Any) -> str:
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(value))
    return str(path)


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("custsync: error: ")
    return line


def test_check_reports_every_secret_by_key_names_only(stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "check", "--stage", "local"]) == 0

    output = capsys.readouterr().out
    lines = dict(line.split(None, 1) for line in output.splitlines())
    assert list(lines) == [f"customer-sync/local/{name}" for name in ("webhook", *stack.simulators)]
    assert all(status.startswith("configured: ") for status in lines.values())
    assert lines[EXIGO] == "configured: base_url, api, login_name, password (credential), company"
    for value in (*map(str, WEBHOOK_SECRETS.values()), "sync-pass", "sync-key"):
        assert value not in output


def test_check_names_what_each_broken_secret_lacks_or_gets_wrong(
    stack: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    store(EXIGO, {})  # as the template creates it
    store("customer-sync/local/everlytic", {**stored("customer-sync/local/everlytic"), "base_url": "http://x.example"})
    store("customer-sync/local/centra", "not json")
    store(WEBHOOK_SECRET_NAME, {"shopify": "set-me", "stripe": "whsec_ok"})
    secretsmanager = boto3.client("secretsmanager")
    secretsmanager.delete_secret(SecretId="customer-sync/local/expandable", ForceDeleteWithoutRecovery=True)

    assert main(["secrets", "check", "--stage", "local", "webhook", "exigo", "everlytic", "centra", "expandable"]) == 1

    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert lines == {
        WEBHOOK_SECRET_NAME: "configured: stripe; not configured: shopify, hubspot, woocommerce, standardwebhooks",
        EXIGO: "not configured: lacks base_url, login_name, password, company",
        "customer-sync/local/everlytic": (
            "invalid: base_url: must be https: credentials never travel over plain http (loopback excepted)"
        ),
        "customer-sync/local/centra": "invalid: the secret is not JSON",
        "customer-sync/local/expandable": "absent: no such secret in Secrets Manager: is the stage deployed?",
    }


def test_put_stores_a_complete_secret_and_prints_no_value(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["secrets", "put", "--stage", "local", "--secret", "exigo", "--file", secret_file(tmp_path, GOOD_EXIGO)]
    assert main(argv) == 0

    assert stored(EXIGO) == GOOD_EXIGO
    output = capsys.readouterr().out
    assert output == f"stored {EXIGO}: base_url, api, login_name, password (credential), company\n"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"password": "set-me"}, "exigo secret is not configured: lacks password; nothing stored"),
        ({"company": ""}, "exigo secret is not configured: lacks company; nothing stored"),
        ({"base_url": "http://acme-api.exigo.com"}, "exigo secret is invalid: base_url: must be https"),
        ({"api": "graphql"}, "exigo secret is invalid: api: Input should be 'rest' or 'soap'; nothing stored"),
        ({"passwrod": "typo"}, "exigo secret is invalid: passwrod: not a key exigo reads; nothing stored"),
    ],
    ids=["placeholder", "empty", "plain http", "unknown api", "unknown key"],
)
def test_put_refuses_a_secret_the_connector_cannot_use_and_stores_nothing(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, str], error: str
) -> None:
    before = stored(EXIGO)
    path = secret_file(tmp_path, {**GOOD_EXIGO, **change})

    line = refusal(capsys, "secrets", "put", "--stage", "local", "--secret", "exigo", "--file", path)

    assert line.startswith(f"custsync: error: {path}: {error}")
    assert "correct-horse-battery" not in line
    assert stored(EXIGO) == before


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({}, "webhook secret is not configured: no source has a signing secret"),
        ({"stripe": "not-a-stripe-secret"}, "webhook secret is invalid: stripe: each value must be the endpoint's"),
        ({"shopfiy": "abc"}, "webhook secret is invalid: shopfiy: not a webhook source"),
    ],
)
def test_put_refuses_a_webhook_secret_no_source_can_use(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: Any, error: str
) -> None:
    path = secret_file(tmp_path, value)
    line = refusal(capsys, "secrets", "put", "--stage", "local", "--secret", "webhook", "--file", path)
    assert line.startswith(f"custsync: error: {path}: {error}")
    assert "not-a-stripe-secret" not in line
    assert stored(WEBHOOK_SECRET_NAME) == WEBHOOK_SECRETS


def test_put_reads_the_value_from_standard_input(
    stack: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    value = {"stripe": ["whsec_new", "whsec_old"], "shopify": "shpss_client_secret"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(value)))

    assert main(["secrets", "put", "--stage", "local", "--secret", "webhook", "--file", "-"]) == 0

    assert stored(WEBHOOK_SECRET_NAME) == value
    configured = "shopify, stripe (2 secrets); not configured: hubspot, woocommerce, standardwebhooks"
    assert capsys.readouterr().out == f"stored {WEBHOOK_SECRET_NAME}: {configured}\n"


def test_bad_input_is_one_line(stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert refusal(capsys, "secrets", "check", "--stage", "local", "magento").endswith(
        f"secret: 'magento' is not one of {', '.join(['webhook', *vendor_names()])}"
    )
    missing = tmp_path / "nope.json"
    assert refusal(capsys, "secrets", "put", "--secret", "exigo", "--file", str(missing)).endswith(
        f"{missing}: No such file or directory"
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"password": "hunter2",')
    line = refusal(capsys, "secrets", "put", "--stage", "local", "--secret", "exigo", "--file", str(broken))
    assert f"{broken}: not valid JSON (" in line and "hunter2" not in line
    path = secret_file(tmp_path, GOOD_EXIGO)
    assert refusal(capsys, "secrets", "put", "--stage", "nostage", "--secret", "exigo", "--file", path).endswith(
        "customer-sync/nostage/exigo: no such secret; deploy the stage first (the template creates it)"
    )


def test_check_local_reads_the_local_stacks_secrets_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "check", "--local"]) == 0
    statuses = [line.split(None, 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert len(statuses) == 1 + len(vendor_names()) and all(status.startswith("configured: ") for status in statuses)
