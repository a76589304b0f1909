"""Facts read from template.yaml: the numbers that make "parked means given up" and the leases hold in AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

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


def project_copy(tmp_path: Path, exsalerate_environment: dict[str, Any]) -> Path:
    """The files ``make template`` reads, with Exsalerate's vendor.yaml given ``exsalerate_environment``."""
    for name in ("template.yaml", "vendors.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    for name in vendor_names(ROOT):
        manifest = yaml.safe_load((ROOT / "functions" / name / "vendor.yaml").read_text())
        if name == "exsalerate":
            manifest["environment"] = exsalerate_environment
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "vendor.yaml").write_text(yaml.safe_dump(manifest))
    return tmp_path


def test_a_vendors_own_settings_reach_its_function_alone(tmp_path: Path) -> None:
    root = project_copy(tmp_path, {"CALL_TIMEOUT_SECONDS": 20, "MAX_ATTEMPTS": "8"})
    (root / "template.yaml").write_text(render(root))
    template = Template(root / "template.yaml")
    exsalerate = template.function("ExsalerateFunction").environment
    assert (exsalerate["CALL_TIMEOUT_SECONDS"], exsalerate["MAX_ATTEMPTS"]) == ("20", "8")
    centra = template.function("CentraFunction").environment
    assert "CALL_TIMEOUT_SECONDS" not in centra
    assert centra["MAX_ATTEMPTS"] == "5"


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"DLQ_URL": "x"}, "DLQ_URL is wired by the template"),
        ({"call_timeout": 3}, "'call_timeout' is not a setting name"),
        ({"MAX_ATTEMPTS": [1]}, "MAX_ATTEMPTS must be a string or a number"),
    ],
)
def test_a_vendor_setting_the_template_cannot_take_is_refused_naming_it(
    tmp_path: Path, environment: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        render(project_copy(tmp_path, environment))
