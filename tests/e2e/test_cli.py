"""The ``custsync`` command as a user runs it: functions under the Lambda Runtime Interface Emulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devkit.stack.local import load_secrets, on_free_ports
from flow import ALL_VENDORS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    """local/secrets.json with every simulator on a free port, so runs never collide."""
    secrets = on_free_ports(load_secrets(ROOT / "local" / "secrets.json"))
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(secrets))
    return path


def custsync(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "devkit.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def invoke(function: str, event: str, secrets_file: Path) -> Any:
    return json.loads(custsync("local", "invoke", function, "--event", event, "--secrets", str(secrets_file)))


def invoke_all(function: str, events: list[str], secrets_file: Path) -> list[Any]:
    """Several events in one run: one stack, one warm function, the answers in order."""
    arguments = [argument for event in events for argument in ("--event", event)]
    answers: list[Any] = json.loads(custsync("local", "invoke", function, *arguments, "--secrets", str(secrets_file)))
    assert len(answers) == len(events)
    return answers


def test_the_webhook_sample_is_accepted_under_the_emulator(secrets_file: Path) -> None:
    response = invoke("WebhookFunction", "events/webhook/01-shopify-customers-update.json", secrets_file)

    assert response["statusCode"] == 202
    body = json.loads(response["body"])
    assert re.fullmatch(r"shopify:7001:[0-9a-f]{32}", body["changeId"])  # the signed body's, not the delivery's
    assert body["vendors"] == ALL_VENDORS


SOURCE_SAMPLES = [
    ("05-hubspot-contact-property-changes.json", 202, 3),
    ("06-stripe-customer-created.json", 202, 1),
    ("08-woocommerce-customer-updated.json", 202, 1),
    ("09-woocommerce-ping.json", 200, 0),
    ("10-standardwebhooks-customer-change.json", 202, 1),
]


def test_every_sources_sample_is_signed_now_and_accepted(secrets_file: Path) -> None:
    samples = [f"events/webhook/{sample}" for sample, _, _ in SOURCE_SAMPLES]
    for response, (sample, status, change_ids) in zip(
        invoke_all("WebhookFunction", samples, secrets_file), SOURCE_SAMPLES, strict=True
    ):
        assert response["statusCode"] == status, (sample, response)
        body = json.loads(response["body"])
        assert len(body.get("changeIds", [body.get("changeId")])) == change_ids, sample
        assert body["vendors"] == (ALL_VENDORS if change_ids else []), sample


@pytest.mark.parametrize("vendor", ALL_VENDORS)
def test_each_vendors_samples_apply_the_sqs_batch_and_the_api_customer(secrets_file: Path, vendor: str) -> None:
    events = [f"events/{vendor}/sqs-batch.json", f"events/{vendor}/api-put.json"]
    batch, api = invoke_all(f"{vendor.capitalize()}Function", events, secrets_file)

    assert batch == {"batchItemFailures": []}
    assert api["statusCode"] == 200
    body = json.loads(api["body"])
    assert body["outcome"] == "applied"
    assert body["response"]


def test_the_api_samples_return_exsalerates_record_and_the_dry_run_the_exact_request(
    secrets_file: Path, tmp_path: Path
) -> None:
    event = json.loads((ROOT / "events/exsalerate/api-put.json").read_text())
    event["body"] = json.dumps({"company": "X", "address": {"country": "Finland"}})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(event))
    # The dry run first: after the apply, the same customer would send nothing (its wire would be empty).
    events = ["events/exsalerate/api-put-dry-run.json", "events/exsalerate/api-put.json", str(bad)]

    dry_run, applied, refused = invoke_all("ExsalerateFunction", events, secrets_file)

    body = json.loads(applied["body"])
    assert body["response"]["CustomerName"] == "Fabrikam Oy"
    assert body["response"]["RefCode"] == "C-2001"
    assert dry_run["statusCode"] == 200
    (call,) = json.loads(dry_run["body"])["request"]["calls"]
    assert call["operation"] == "PUT api/Customer"
    assert call["payload"]["CustomerName"] == "Fabrikam Oy"
    assert call["payload"]["AssignedToEmail"] == "sales@example.com"
    (wire,) = json.loads(dry_run["body"])["wire"]  # the request as it would go on the wire, credentials masked
    assert (wire["method"], wire["headers"]["authorization"]) == ("PUT", "Basic *****")
    assert wire["url"].endswith("/api/Customer")
    assert json.loads(wire["body"]) == call["payload"]
    assert refused["statusCode"] == 400
    assert "address.country" in json.loads(refused["body"])["error"]


def test_the_demo_runs_the_whole_flow_to_every_vendor(secrets_file: Path) -> None:
    output = custsync("demo", "--secrets", str(secrets_file))

    assert output.count("POST /webhooks/shopify") == 5
    for source in ("hubspot", "stripe", "woocommerce", "standardwebhooks"):
        assert f"POST /webhooks/{source} " in output
    assert output.count("-> 202") == 12, "eleven samples and the SOAP act's change; the WooCommerce ping is a 200"
    assert output.count("-> 200") == 1
    rows = {
        line.split()[0]: [int(n) for n in line.split()[1:5]]
        for line in output.splitlines()
        if line.split()[:1] and line.split()[0] in ALL_VENDORS and len(line.split()) == 5
    }
    # The Shopify redelivery is dropped by the FIFO queue; the older Shopify change is skipped by the state
    # table (Centra: coalesced into the newer one in the same batch); a deletion deactivates, an erasure is applied
    # to each function's own keeping; nothing fails.
    assert set(rows) == set(ALL_VENDORS)
    for vendor, (sent, applied, skipped, failed) in rows.items():
        assert (sent, failed) == (13, 0), vendor
        assert applied + skipped == sent, vendor
    assert "Exigo switched to SOAP by its secret: webhook -> 202, 1 change delivered, 1 SOAP call(s)" in output
    # Every source's customers reached every vendor: the vendor columns equal the customers column.
    per_source = {
        line.split()[0]: [int(n) for n in line.split()[1:]]
        for line in output.split("per source:", 1)[1].splitlines()[2:7]
    }
    assert {source: counts[:3] for source, counts in per_source.items()} == {
        "shopify": [5, 4, 2],
        "hubspot": [2, 5, 2],
        "stripe": [2, 2, 1],
        "woocommerce": [2, 1, 1],
        "standardwebhooks": [1, 1, 1],
    }
    for source, counts in per_source.items():
        assert counts[3:] == [counts[2]] * len(ALL_VENDORS), source
    log_dir = Path(output.rsplit("Function logs: ", 1)[1].strip())
    logs = "\n".join(p.read_text() for p in log_dir.glob("*.log"))
    assert '"message":"change applied"' in logs
    erased = [json.loads(line) for line in logs.splitlines() if '"message":"customer erased"' in line]
    assert sorted(entry["customer_key"] for entry in erased) == ["hubspot:5102"] * len(ALL_VENDORS)
    records = output.split("the simulator's records", 1)[1]
    assert '"CustomerStatus": 2' in records and '"CONTACT_STATUS": "I"' in records, "deleted customers deactivated"
    assert logs.count('"message":"WSDL parsed"') == 2, "Centra's and Exigo-over-SOAP's containers parse once each"
    for personal in (
        "ada@example.com",
        "Lovelace",
        "+46701234567",
        "Drottninggatan",
        "katherine@example.com",
        "Vaughan",
        "+1 757 555 0150",
        "Brookpark",
        "christine@example.com",
        "local-shopify-client-secret",
        "local-hubspot-client-secret",
        "whsec_",
        "local-woocommerce-webhook-secret",
        "sync-pass",
    ):
        assert personal not in logs
