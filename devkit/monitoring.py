"""The template's monitoring, per vendor: alarms on the SNS topic, the dashboard, Logs Insights queries.

``devkit.vendors`` writes these parts into ``template.yaml`` between their markers (``# >>> vendors:
monitoring``, ``dashboard``, ``queries``) from ``vendors.yaml``; the topic, its e-mail subscription, the
thresholds and the API's 5xx alarm are written by hand next to them. Every alarm's description names its
runbook entry, a ``####`` heading of README.md's "Runbook" (``tests/unit/test_monitoring.py`` checks both).

Metrics are the functions' (CloudWatch EMF, namespace ``CustomerSync``, Powertools' ``service``
dimension): a vendor function's per {service, vendor}, the webhook's per {service, source}.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from custsync.observability import NAMESPACE, SERVICE

WEBHOOK = "Webhook"
# Runbook entries (README.md, Operating > Runbook): the heading each alarm's description names.
RUNBOOK = {
    "dlq-depth": "DLQ depth",
    "oldest-message": "Oldest message age",
    "parked-rate": "Parked rate",
    "function-errors": "Function errors",
    "function-throttles": "Function throttles",
    "api-5xx": "Webhook 5xx",
}


def runbook(entry: str) -> str:
    return f'Runbook: README.md, Operating > Runbook > "{RUNBOOK[entry]}".'


# An alarm on one metric: above its threshold for one period notifies the topic, and again when it is over.
METRIC_ALARM = """\
{logical_id}:
  Type: AWS::CloudWatch::Alarm
  Properties:
    AlarmName: !Sub customer-sync-${{Stage}}-{name}-{kind}
    AlarmDescription: >-
      {what}
      {runbook}
    Namespace: {namespace}
    MetricName: {metric}
    Dimensions:
      - Name: {dimension}
        Value: {value}
    Statistic: {statistic}
    Period: {period}
    EvaluationPeriods: 1
    Threshold: {threshold}
    ComparisonOperator: GreaterThanThreshold
{missing}    AlarmActions: [!Ref AlarmTopic]
    OKActions: [!Ref AlarmTopic]

"""
NOT_BREACHING = "    TreatMissingData: notBreaching\n"
STAYS = (
    "    # SQS stops sending metrics for a queue left alone for hours: a full DLQ stays in alarm.\n"
    "    TreatMissingData: missing\n"
)
PARKED_RATE_ALARM = """\
{Title}ParkedRateAlarm:
  Type: AWS::CloudWatch::Alarm
  Properties:
    AlarmName: !Sub customer-sync-${{Stage}}-{name}-parked-rate
    AlarmDescription: >-
      More than ParkedRateAlarmPercent of {Title}'s changes were parked in five minutes.
      {runbook}
    Metrics:
      - Id: rate
        Label: parked, % of changes handled
        Expression: 100 * FILL(parked, 0) / (FILL(applied, 0) + FILL(skipped, 0) + FILL(parked, 0))
        ReturnData: true
{outcome_metrics}    EvaluationPeriods: 1
    Threshold: !Ref ParkedRateAlarmPercent
    ComparisonOperator: GreaterThanThreshold
    TreatMissingData: notBreaching
    AlarmActions: [!Ref AlarmTopic]
    OKActions: [!Ref AlarmTopic]

"""
OUTCOME_METRIC = """\
      - Id: {id}
        ReturnData: false
        MetricStat:
          Metric:
            Namespace: {namespace}
            MetricName: {metric}
            Dimensions:
              - Name: service
                Value: {service}
              - Name: vendor
                Value: {name}
          Period: 300
          Stat: Sum
"""
OUTCOMES = {"applied": "ChangesApplied", "skipped": "ChangesSkipped", "parked": "ChangesParked"}
# What a vendor's changes came to, what held them back, and the webhooks' answers (contract 3).
CHANGE_METRICS = ("ChangesApplied", "ChangesSkipped", "ChangesRetried", "ChangesParked")
HOLD_BACK_METRICS = ("CircuitOpen", "VendorPaused", "RateLimited")
WEBHOOK_METRICS = ("WebhooksAccepted", "WebhooksRejected", "WebhooksIgnored")
PERIOD = 300


def _queue_alarms(title: str, name: str) -> str:
    queue = {"name": name, "namespace": "AWS/SQS", "dimension": "QueueName", "statistic": "Maximum"}
    return METRIC_ALARM.format(
        logical_id=f"{title}DLQDepthAlarm",
        kind="dlq-depth",
        what=f"{title} parked a change in its DLQ: it was given up on and waits for an operator.",
        runbook=runbook("dlq-depth"),
        metric="ApproximateNumberOfMessagesVisible",
        value=f"!GetAtt {title}DLQ.QueueName",
        period=60,
        threshold=0,
        missing=STAYS,
        **queue,
    ) + METRIC_ALARM.format(
        logical_id=f"{title}OldestMessageAlarm",
        kind="oldest-message",
        what=f"A change has waited in {title}'s queue longer than OldestMessageAlarmSeconds.",
        runbook=runbook("oldest-message"),
        metric="ApproximateAgeOfOldestMessage",
        value=f"!GetAtt {title}Queue.QueueName",
        period=300,
        threshold="!Ref OldestMessageAlarmSeconds",
        missing=NOT_BREACHING,
        **queue,
    )


def _function_alarms(title: str, name: str) -> str:
    """Lambda's own Errors (a crash, a timeout, a failed cold start) and Throttles of one function."""
    function = {
        "name": name,
        "namespace": "AWS/Lambda",
        "dimension": "FunctionName",
        "value": f"!Ref {title}Function",
        "statistic": "Sum",
        "period": 300,
        "threshold": 0,
        "missing": NOT_BREACHING,
    }
    errors = f"{title}Function failed invocations (Lambda Errors: a crash, a timeout, a failed cold start)."
    throttles = f"Lambda throttled {title}Function: the account or the function ran out of concurrency."
    return METRIC_ALARM.format(
        logical_id=f"{title}FunctionErrorsAlarm",
        kind="function-errors",
        what=errors,
        runbook=runbook("function-errors"),
        metric="Errors",
        **function,
    ) + METRIC_ALARM.format(
        logical_id=f"{title}FunctionThrottlesAlarm",
        kind="function-throttles",
        what=throttles,
        runbook=runbook("function-throttles"),
        metric="Throttles",
        **function,
    )


def alarms(vendors: Sequence[str]) -> str:
    """Every vendor's alarms, then each function's (the webhook's and the vendors') errors and throttles."""
    out = []
    for name in vendors:
        title = name.capitalize()
        metrics = "".join(
            OUTCOME_METRIC.format(id=id_, metric=metric, namespace=NAMESPACE, service=SERVICE, name=name)
            for id_, metric in OUTCOMES.items()
        )
        out.append(f"# ---- {title} alarms " + "-" * (85 - len(title)) + "\n")
        out.append(_queue_alarms(title, name))
        out.append(
            PARKED_RATE_ALARM.format(Title=title, name=name, outcome_metrics=metrics, runbook=runbook("parked-rate"))
        )
    out.append("# ---- Every function's errors and throttles " + "-" * 50 + "\n")
    out += [
        _function_alarms(title, name) for title, name in [(WEBHOOK, "webhook"), *((n.capitalize(), n) for n in vendors)]
    ]
    return "".join(out)


# -- the dashboard ---------------------------------------------------------------------------------------------
def _vendor_metric(metric: str, vendor: str, **options: Any) -> list[Any]:
    return [NAMESPACE, metric, "service", SERVICE, "vendor", vendor, options or {}]


def _queue_metric(metric: str, queue: str, **options: Any) -> list[Any]:
    return ["AWS/SQS", metric, "QueueName", f"${{{queue}.QueueName}}", options or {}]


def _widget(title: str, metrics: list[list[Any]], x: int, y: int, width: int, **properties: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "period": PERIOD,
            "stat": "Sum",
            "metrics": metrics,
            **properties,
        },
    }


def vendor_widgets(name: str, y: int) -> list[dict[str, Any]]:
    """A vendor's row: a heading, then its changes, latency, queue, DLQ, and what held its changes back."""
    title = name.capitalize()
    return [
        {"type": "text", "x": 0, "y": y, "width": 24, "height": 1, "properties": {"markdown": f"## {title}"}},
        _widget(
            f"{title}: changes applied, skipped, retried, parked",
            [_vendor_metric(metric, name) for metric in CHANGE_METRICS],
            0,
            y + 1,
            6,
        ),
        _widget(
            f"{title}: vendor call latency (ms)",
            [_vendor_metric("VendorLatency", name, stat=stat, label=stat) for stat in ("p50", "p99")],
            6,
            y + 1,
            6,
        ),
        _widget(
            f"{title}: queue depth and oldest message",
            [
                _queue_metric("ApproximateNumberOfMessagesVisible", f"{title}Queue", stat="Maximum", label="waiting"),
                _queue_metric(
                    "ApproximateNumberOfMessagesNotVisible", f"{title}Queue", stat="Maximum", label="in flight"
                ),
                _queue_metric(
                    "ApproximateAgeOfOldestMessage",
                    f"{title}Queue",
                    stat="Maximum",
                    label="oldest (s)",
                    yAxis="right",
                ),
            ],
            12,
            y + 1,
            6,
        ),
        _widget(
            f"{title}: DLQ depth",
            [_queue_metric("ApproximateNumberOfMessagesVisible", f"{title}DLQ", stat="Maximum", label="parked")],
            18,
            y + 1,
            3,
        ),
        _widget(
            f"{title}: circuit open, paused, rate limited",
            [_vendor_metric(metric, name) for metric in HOLD_BACK_METRICS],
            21,
            y + 1,
            3,
        ),
    ]


def webhook_widgets(y: int) -> list[dict[str, Any]]:
    """The webhooks' answers per source: a search, so a source added later shows up by itself."""
    widgets = []
    for n, metric in enumerate(WEBHOOK_METRICS):
        search = f"SEARCH('{{{NAMESPACE},service,source}} MetricName=\"{metric}\"', 'Sum', {PERIOD})"
        widgets.append(
            _widget(
                f"Webhooks {metric.removeprefix('Webhooks').lower()}, per source",
                # Each line labelled with its source: ${PROP(...)} for CloudWatch, escaped (${!...}) from !Sub.
                [[{"expression": search, "id": f"w{n}", "label": "${!PROP('Dim.source')}"}]],
                8 * n,
                y,
                8,
            )
        )
    return widgets


def dashboard_body(vendors: Sequence[str]) -> dict[str, Any]:
    alarm_ids = [
        f"{name.capitalize()}{kind}Alarm"
        for name in vendors
        for kind in ("DLQDepth", "OldestMessage", "ParkedRate", "FunctionErrors", "FunctionThrottles")
    ]
    alarm_ids = [f"{WEBHOOK}FunctionErrorsAlarm", f"{WEBHOOK}FunctionThrottlesAlarm", "Webhook5xxAlarm", *alarm_ids]
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 4,
            "properties": {"title": "Alarms", "alarms": [f"${{{alarm}.Arn}}" for alarm in alarm_ids]},
        },
        *webhook_widgets(4),
    ]
    for n, name in enumerate(vendors):
        widgets += vendor_widgets(name, 10 + 7 * n)
    return {"widgets": widgets}


def dashboard(vendors: Sequence[str]) -> str:
    """The dashboard resource; its body JSON (one widget a line) through ``!Sub`` for the names and region."""
    body = dashboard_body(vendors)
    lines = ",\n".join("    " + json.dumps(widget, separators=(", ", ": ")) for widget in body["widgets"])
    return (
        "OperationsDashboard:\n"
        "  Type: AWS::CloudWatch::Dashboard\n"
        "  Properties:\n"
        "    DashboardName: !Sub customer-sync-${Stage}\n"
        "    DashboardBody: !Sub |\n"
        '      {"widgets": [\n' + "\n".join("  " + line for line in lines.splitlines()) + "\n      ]}\n"
    )


# -- Logs Insights query definitions ---------------------------------------------------------------------------
JOURNEY = """\
fields @timestamp, @log, message, source, vendor, outcome, reason, error_type, customer_key
| filter change_id = "CHANGE_ID" or correlation_id = "CHANGE_ID"
| sort @timestamp asc"""
PARKED = """\
fields @timestamp, change_id, customer_key, error_type, reason
| filter message = "change parked in the DLQ"
| sort @timestamp desc"""
HISTORY = """\
fields @timestamp, @log, message, change_id, source, outcome, reason
| filter customer_key = "CUSTOMER_KEY"
| sort @timestamp asc"""


def log_group(title: str) -> str:
    """The function's log group, ``/aws/lambda/<function name>``."""
    return f"!Sub /aws/lambda/${{{title}Function}}"


def _query(logical_id: str, name: str, text: str, titles: Sequence[str]) -> str:
    groups = "".join(f"      - {log_group(title)}\n" for title in titles)
    body = "".join(f"      {line}\n" for line in text.splitlines())
    return (
        f"{logical_id}:\n"
        "  Type: AWS::Logs::QueryDefinition\n"
        "  Properties:\n"
        f"    Name: !Sub customer-sync/${{Stage}}/{name}\n"
        "    LogGroupNames:\n"
        f"{groups}"
        "    QueryString: |\n"
        f"{body}\n"
    )


def queries(vendors: Sequence[str]) -> str:
    """One change's journey (webhook to every vendor) and one customer's history, over every function's log
    group; each vendor's parked changes with their reasons, over its own. Replace CHANGE_ID or CUSTOMER_KEY."""
    everyone = [WEBHOOK, *(name.capitalize() for name in vendors)]
    out = [
        _query("ChangeJourneyQuery", "change-journey", JOURNEY, everyone),
        _query("CustomerHistoryQuery", "customer-history", HISTORY, everyone),
    ]
    out += [
        _query(f"{name.capitalize()}ParkedQuery", f"parked/{name}", PARKED, [name.capitalize()]) for name in vendors
    ]
    return "".join(out)


def parts(vendors: Sequence[str]) -> dict[str, str]:
    return {"monitoring": alarms(vendors), "dashboard": dashboard(vendors), "queries": queries(vendors)}
