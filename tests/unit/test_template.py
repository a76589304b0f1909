"""Facts read from template.yaml: the numbers that make "parked means given up" and the leases hold in AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custsync.config import VendorSettings
from devkit.stack.template import Template
from devkit.vendors import render, vendor_names

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template(ROOT / "template.yaml")
VENDOR_FUNCTIONS = sorted(
    name
    for name, resource in TEMPLATE.of_type("AWS::Serverless::Function").items()
    if any(event["Type"] == "SQS" for event in resource["Properties"].get("Events", {}).values())
)


def setting(logical_id: str, name: str) -> float:
    """A vendor setting as the function gets it: from its environment in the template, else its default."""
    environment = TEMPLATE.function(logical_id).environment
    value = environment.get(name.upper(), VendorSettings.model_fields[name].default)
    return float(value)


def queue_of(logical_id: str) -> dict[str, Any]:
    (event,) = [e for e in TEMPLATE.resources[logical_id]["Properties"]["Events"].values() if e["Type"] == "SQS"]
    queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
    properties: dict[str, Any] = TEMPLATE.resources[queue_id]["Properties"]
    return {"properties": properties, "event": event["Properties"]}


def test_every_vendor_of_vendors_yaml_has_its_function_and_nothing_else_does() -> None:
    assert sorted(f"{name.capitalize()}Function" for name in vendor_names(ROOT)) == VENDOR_FUNCTIONS


def test_the_templates_per_vendor_parts_are_what_vendors_yaml_says() -> None:
    assert render(ROOT) == (ROOT / "template.yaml").read_text(), "run `make template`"


@pytest.mark.parametrize("logical_id", VENDOR_FUNCTIONS)
def test_the_function_gives_up_with_a_reason_before_the_queue_moves_a_message_without_one(logical_id: str) -> None:
    max_receive_count = queue_of(logical_id)["properties"]["RedrivePolicy"]["maxReceiveCount"]
    assert setting(logical_id, "max_attempts") <= setting(logical_id, "max_receives") < max_receive_count


@pytest.mark.parametrize("logical_id", VENDOR_FUNCTIONS)
def test_a_lease_outlives_any_invocation_and_a_message_is_hidden_while_it_runs(logical_id: str) -> None:
    timeout = TEMPLATE.function(logical_id).timeout
    assert setting(logical_id, "lease_seconds") > timeout
    assert queue_of(logical_id)["properties"]["VisibilityTimeout"] >= timeout
    assert setting(logical_id, "call_timeout_seconds") + setting(logical_id, "deadline_margin_seconds") < timeout


@pytest.mark.parametrize("logical_id", VENDOR_FUNCTIONS)
def test_each_vendors_concurrency_is_a_parameter_lambda_accepts(logical_id: str) -> None:
    scaling = queue_of(logical_id)["event"]["ScalingConfig"]["MaximumConcurrency"]
    parameter = TEMPLATE.body["Parameters"][scaling["Ref"]]
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] >= 2
