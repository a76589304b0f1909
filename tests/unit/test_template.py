"""Facts read from template.yaml: the numbers that make "parked means given up" and the leases hold in AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from custsync.config import VendorSettings
from devkit.stack.template import Template
from devkit.vendors import render, render_readme, vendor_names

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


def test_readmes_table_of_vendor_secrets_is_current() -> None:
    """Made from each connector's secret model, a row a vendor of vendors.yaml."""
    assert (ROOT / "README.md").read_text() == render_readme(ROOT), "README.md is not current: run `make template`"
    for name in vendor_names(ROOT):
        assert f"\n| `{name}` | **`base_url`**" in render_readme(ROOT)


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


def scaling(logical_id: str, mode: str) -> dict[str, Any]:
    """The event source's scaling properties as CloudFormation resolves them with EventSourceScaling = ``mode``."""
    template = Template(ROOT / "template.yaml", {"EventSourceScaling": mode})
    event = queue_of(logical_id)["event"]
    resolved: dict[str, Any] = template.resolver({}, "stack").resolve(
        {name: event[name] for name in ("ScalingConfig", "ProvisionedPollerConfig")}
    )
    return resolved


@pytest.mark.parametrize("logical_id", VENDOR_FUNCTIONS)
def test_each_vendors_concurrency_is_a_parameter_lambda_accepts(logical_id: str) -> None:
    maximum = queue_of(logical_id)["event"]["ScalingConfig"]["Fn::If"][2]["MaximumConcurrency"]
    parameter = TEMPLATE.body["Parameters"][maximum["Ref"]]
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] >= 2


@pytest.mark.parametrize("logical_id", VENDOR_FUNCTIONS)
def test_one_parameter_chooses_maximum_concurrency_or_provisioned_pollers_never_both(logical_id: str) -> None:
    """Lambda refuses an event source mapping with both (docs: services-sqs-scaling, "mutually exclusive")."""
    title = logical_id.removesuffix("Function")
    assert scaling(logical_id, "MaximumConcurrency") == {
        "ScalingConfig": {"MaximumConcurrency": TEMPLATE.parameters[f"{title}MaxConcurrency"]}
    }
    assert scaling(logical_id, "Provisioned") == {
        "ProvisionedPollerConfig": {
            "MinimumPollers": TEMPLATE.parameters["ProvisionedMinimumPollers"],
            "MaximumPollers": TEMPLATE.parameters["ProvisionedMaximumPollers"],
        }
    }


@pytest.mark.parametrize(
    ("mode", "concurrency", "pollers"), [("MaximumConcurrency", "5", ""), ("Provisioned", "", "5")]
)
def test_the_function_knows_the_most_containers_its_event_source_runs(
    mode: str, concurrency: str, pollers: str
) -> None:
    """What it shares the vendor's max_in_flight over."""
    template = Template(ROOT / "template.yaml", {"EventSourceScaling": mode})
    wired = template.function("ExsalerateFunction").environment
    environment = template.resolver({}, "stack").resolve({name: wired[name] for name in wired if "EVENT" in name})
    assert (environment["EVENT_SOURCE_MAX_CONCURRENCY"], environment["EVENT_SOURCE_MAX_POLLERS"]) == (
        concurrency,
        pollers,
    )
    settings = {"vendor": "x", "state_table": "t", "vendor_secret_name": "s", "dlq_url": "q"}
    assert VendorSettings.from_env({**{k.upper(): v for k, v in settings.items()}, **environment}).most_containers == (
        5 if mode == "MaximumConcurrency" else 50
    )


@pytest.mark.parametrize("logical_id", VENDOR_FUNCTIONS)
def test_each_vendors_limits_reach_its_function_and_its_concurrency_keeps_them_busy(logical_id: str) -> None:
    name = logical_id.removesuffix("Function").lower()
    limits = yaml.safe_load((ROOT / "functions" / name / "vendor.yaml").read_text())["limits"]
    environment = TEMPLATE.function(logical_id).environment
    assert environment["REQUESTS_PER_SECOND"] == str(limits["requests_per_second"])
    assert environment["MAX_IN_FLIGHT"] == str(limits["max_in_flight"])
    concurrency = int(TEMPLATE.parameters[f"{name.capitalize()}MaxConcurrency"])
    assert concurrency * setting(logical_id, "group_concurrency") >= limits["max_in_flight"]


def project_copy(tmp_path: Path, exsalerate_environment: dict[str, Any], **exsalerate: Any) -> Path:
    """The files ``make template`` reads, with Exsalerate's vendor.yaml given ``exsalerate_environment`` (and
    ``exsalerate``'s other keys)."""
    for name in ("template.yaml", "vendors.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    for name in vendor_names(ROOT):
        manifest = yaml.safe_load((ROOT / "functions" / name / "vendor.yaml").read_text())
        if name == "exsalerate":
            manifest.update(exsalerate, environment=exsalerate_environment)
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


def test_a_vendors_limits_set_its_settings_and_its_concurrency(tmp_path: Path) -> None:
    root = project_copy(tmp_path, {"GROUP_CONCURRENCY": 5}, limits={"requests_per_second": 3, "max_in_flight": 40})
    (root / "template.yaml").write_text(render(root))
    template = Template(root / "template.yaml")
    exsalerate = template.function("ExsalerateFunction").environment
    assert (exsalerate["REQUESTS_PER_SECOND"], exsalerate["MAX_IN_FLIGHT"]) == ("3", "40")
    assert template.parameters["ExsalerateMaxConcurrency"] == "8", "40 in flight, 5 a container"


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        ({"requests_per_second": 0}, "requests_per_second must be a whole number of at least 1"),
        ({"requests_per_second": 2.5}, "requests_per_second must be a whole number"),
        ({"per_minute": 60}, "limits takes requests_per_second and max_in_flight"),
    ],
)
def test_a_limit_the_template_cannot_take_is_refused_naming_it(
    tmp_path: Path, limits: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        render(project_copy(tmp_path, {}, limits=limits))


def test_a_limit_cannot_be_set_as_an_environment_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="REQUESTS_PER_SECOND is wired by the template"):
        render(project_copy(tmp_path, {"REQUESTS_PER_SECOND": 100}))
