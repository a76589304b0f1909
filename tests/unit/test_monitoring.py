"""What watches the system, read from template.yaml: per vendor (vendors.yaml's), the dashboard's widgets and each
alarm on the topic; every function's errors and throttles; the API's 5xx; the Logs Insights queries; and every
alarm's runbook entry in README.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devkit.stack.template import Template
from devkit.vendors import vendor_names

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template(ROOT / "template.yaml")
VENDORS = vendor_names(ROOT)
SERVICE = "customer-sync"  # POWERTOOLS_SERVICE_NAME, the `service` dimension Powertools adds
ALARMS = TEMPLATE.of_type("AWS::CloudWatch::Alarm")
FUNCTIONS = TEMPLATE.of_type("AWS::Serverless::Function")
RUNBOOK_NAMED = re.compile(r'Runbook: README\.md, Operating > Runbook > "([^"]+)"')


def vendor_function(vendor: str) -> str:
    (logical_id,) = [
        name
        for name, resource in FUNCTIONS.items()
        if resource["Properties"]["Environment"]["Variables"].get("VENDOR") == vendor
    ]
    return logical_id


def queue_of(vendor: str) -> str:
    events = FUNCTIONS[vendor_function(vendor)]["Properties"]["Events"].values()
    (queue,) = [event["Properties"]["Queue"]["Fn::GetAtt"][0] for event in events if event["Type"] == "SQS"]
    return str(queue)


def dlq_of(vendor: str) -> str:
    return str(FUNCTIONS[vendor_function(vendor)]["Properties"]["Environment"]["Variables"]["DLQ_URL"]["Ref"])


def dashboard() -> dict[str, Any]:
    (resource,) = TEMPLATE.of_type("AWS::CloudWatch::Dashboard").values()
    text = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    body: dict[str, Any] = json.loads(text)
    return body


def metric_lines(widget: dict[str, Any]) -> list[list[Any]]:
    return [line for line in widget.get("properties", {}).get("metrics", []) if isinstance(line[0], str)]


def widgets_with(namespace: str, metric: str, *dimensions: str, stat: str | None = None) -> list[dict[str, Any]]:
    """The metric widgets that plot ``metric`` with exactly these dimension name/value pairs (and ``stat``)."""
    found = []
    for widget in dashboard()["widgets"]:
        for line in metric_lines(widget):
            options = line[-1] if isinstance(line[-1], dict) else {}
            names = line[2:-1] if isinstance(line[-1], dict) else line[2:]
            wanted_stat = stat is None or options.get("stat", widget["properties"].get("stat")) == stat
            if line[:2] == [namespace, metric] and list(names) == list(dimensions) and wanted_stat:
                found.append(widget)
    return found


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendor_has_its_dashboard_widgets(vendor: str) -> None:
    vendor_dimensions = ("service", SERVICE, "vendor", vendor)
    for metric in ("ChangesApplied", "ChangesSkipped", "ChangesRetried", "ChangesParked"):
        assert widgets_with("CustomerSync", metric, *vendor_dimensions), metric
    for percentile in ("p50", "p99"):
        assert widgets_with("CustomerSync", "VendorLatency", *vendor_dimensions, stat=percentile), percentile
    queue = ("QueueName", f"${{{queue_of(vendor)}.QueueName}}")
    assert widgets_with("AWS/SQS", "ApproximateNumberOfMessagesVisible", *queue)
    assert widgets_with("AWS/SQS", "ApproximateAgeOfOldestMessage", *queue)
    assert widgets_with(
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"${{{dlq_of(vendor)}.QueueName}}"
    )
    for metric in ("CircuitOpen", "VendorPaused", "RateLimited"):  # the circuit and back-off state
        assert widgets_with("CustomerSync", metric, *vendor_dimensions), metric


def test_webhooks_accepted_rejected_and_ignored_are_plotted_per_source() -> None:
    expressions = [
        line[0]["expression"]
        for widget in dashboard()["widgets"]
        for line in widget.get("properties", {}).get("metrics", [])
        if isinstance(line[0], dict)
    ]
    for metric in ("WebhooksAccepted", "WebhooksRejected", "WebhooksIgnored"):
        assert f"SEARCH('{{CustomerSync,service,source}} MetricName=\"{metric}\"', 'Sum', 300)" in expressions


def test_the_dashboard_names_only_what_the_template_has_and_fits_its_grid() -> None:
    (resource,) = TEMPLATE.of_type("AWS::CloudWatch::Dashboard").values()
    text = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    for reference in re.findall(r"\$\{([^!}][^}]*)\}", text):
        name = reference.split(".", 1)[0]
        assert name in TEMPLATE.resources or name.startswith("AWS::"), reference
    for widget in dashboard()["widgets"]:
        assert widget["type"] in ("metric", "text", "alarm")
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24
    alarm_widget = next(w for w in dashboard()["widgets"] if w["type"] == "alarm")
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(f"${{{name}.Arn}}" for name in ALARMS)


def alarms_on(namespace: str, metric: str, dimension: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        alarm["Properties"]
        for alarm in ALARMS.values()
        if alarm["Properties"].get("Namespace") == namespace
        and alarm["Properties"].get("MetricName") == metric
        and dimension in alarm["Properties"].get("Dimensions", [])
    ]


def notifies_the_topic(alarm: dict[str, Any]) -> bool:
    return {"Ref": "AlarmTopic"} in alarm["AlarmActions"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendors_alarms_notify_the_topic(vendor: str) -> None:
    dlq = {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_of(vendor), "QueueName"]}}
    (dlq_depth,) = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", dlq)
    assert (dlq_depth["ComparisonOperator"], dlq_depth["Threshold"]) == ("GreaterThanThreshold", 0)
    assert notifies_the_topic(dlq_depth)

    queue = {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_of(vendor), "QueueName"]}}
    (oldest,) = alarms_on("AWS/SQS", "ApproximateAgeOfOldestMessage", queue)
    assert oldest["Threshold"] == {"Ref": "OldestMessageAlarmSeconds"}
    assert TEMPLATE.body["Parameters"]["OldestMessageAlarmSeconds"]["Type"] == "Number"
    assert notifies_the_topic(oldest)

    parked_rate = [
        alarm["Properties"]
        for alarm in ALARMS.values()
        if any(
            query.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "ChangesParked"
            and {"Name": "vendor", "Value": vendor} in query["MetricStat"]["Metric"]["Dimensions"]
            for query in alarm["Properties"].get("Metrics", [])
        )
    ]
    (rate,) = parked_rate
    (expression,) = [query["Expression"] for query in rate["Metrics"] if query.get("ReturnData")]
    assert expression.startswith("100 * FILL(parked, 0) /")
    assert rate["Threshold"] == {"Ref": "ParkedRateAlarmPercent"}
    assert notifies_the_topic(rate)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_functions_errors_and_throttles_notify_the_topic(function: str) -> None:
    dimension = {"Name": "FunctionName", "Value": {"Ref": function}}
    for metric in ("Errors", "Throttles"):
        (alarm,) = alarms_on("AWS/Lambda", metric, dimension)
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert notifies_the_topic(alarm)


def test_the_apis_5xx_notify_the_topic() -> None:
    (alarm,) = alarms_on("AWS/ApiGateway", "5XXError", {"Name": "Stage", "Value": {"Ref": "Stage"}})
    # SAM names the REST API after the stack (its OpenAPI title), and API Gateway's ApiName dimension is that name.
    assert {"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}} in alarm["Dimensions"]
    assert notifies_the_topic(alarm)


def test_the_topic_mails_the_address_given_as_a_parameter() -> None:
    assert TEMPLATE.resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    (subscription,) = TEMPLATE.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert TEMPLATE.body["Parameters"]["AlarmEmail"]["Default"] == ""  # no address: no subscription
    assert TEMPLATE.resolver({}, "stack").condition(subscription["Condition"]) is False


def runbook_entries() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    operating = readme.split("\n## Operating\n", 1)[1].split("\n## ", 1)[0]
    runbook = operating.split("\n### Runbook\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^#### (.+)$", runbook, flags=re.MULTILINE)


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_names_its_runbook_entry_and_readme_has_it(alarm: str) -> None:
    description = ALARMS[alarm]["Properties"]["AlarmDescription"]
    (entry,) = RUNBOOK_NAMED.findall(description)
    assert entry in runbook_entries()


def test_every_runbook_entry_says_what_it_means_what_to_look_at_and_what_to_do() -> None:
    readme = (ROOT / "README.md").read_text()
    for entry in runbook_entries():
        text = readme.split(f"#### {entry}\n", 1)[1].split("\n#### ", 1)[0].split("\n### ", 1)[0]
        for part in ("What it means", "Look at", "Do"):
            assert f"**{part}**" in text, (entry, part)


def queries() -> dict[str, dict[str, Any]]:
    """Each query definition by its name (``customer-sync/${Stage}/...``)."""
    return {
        str(resource["Properties"]["Name"]["Fn::Sub"]): resource["Properties"]
        for resource in TEMPLATE.of_type("AWS::Logs::QueryDefinition").values()
    }


def log_groups(query: dict[str, Any]) -> set[str]:
    return {group["Fn::Sub"] for group in query["LogGroupNames"]}


def every_functions_log_group() -> set[str]:
    return {f"/aws/lambda/${{{function}}}" for function in FUNCTIONS}


def test_one_changes_journey_and_one_customers_history_are_queried_over_every_function() -> None:
    journey = queries()["customer-sync/${Stage}/change-journey"]
    assert log_groups(journey) == every_functions_log_group()
    assert 'filter change_id = "CHANGE_ID" or correlation_id = "CHANGE_ID"' in journey["QueryString"]
    history = queries()["customer-sync/${Stage}/customer-history"]
    assert log_groups(history) == every_functions_log_group()
    assert 'filter customer_key = "CUSTOMER_KEY"' in history["QueryString"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendors_parked_changes_are_queried_with_their_reason(vendor: str) -> None:
    parked = queries()[f"customer-sync/${{Stage}}/parked/{vendor}"]
    assert log_groups(parked) == {f"/aws/lambda/${{{vendor_function(vendor)}}}"}
    assert 'filter message = "change parked in the DLQ"' in parked["QueryString"]
    assert "reason" in parked["QueryString"].splitlines()[0]
