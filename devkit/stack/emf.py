"""What CloudWatch does with a function's log: its Embedded Metric Format records become metrics.

In AWS, CloudWatch Logs extracts the metrics Powertools writes as EMF JSON lines. Locally the functions' logs
are files; ``publish`` reads the lines written since ``offset`` and puts their metrics into moto's CloudWatch
(``PutMetricData``), so ``custsync status`` reads the local stack's metrics as it reads a stage's.
Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PUT_BATCH = 500  # PutMetricData's most datums a call


def datums(record: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(namespace, PutMetricData datum) for each metric of each dimension set of one EMF record."""
    directive = record.get("_aws")
    if not isinstance(directive, dict):
        return
    timestamp = datetime.fromtimestamp(int(directive.get("Timestamp", 0)) / 1000, UTC)
    for group in directive.get("CloudWatchMetrics") or []:
        for dimension_set in group.get("Dimensions") or [[]]:
            dimensions = [{"Name": name, "Value": str(record[name])} for name in dimension_set if name in record]
            for metric in group.get("Metrics") or []:
                values = record.get(metric["Name"])
                values = values if isinstance(values, list) else [values]
                numbers = [float(v) for v in values if isinstance(v, int | float)]
                if not numbers:
                    continue
                yield (
                    str(group.get("Namespace", "")),
                    {
                        "MetricName": metric["Name"],
                        "Dimensions": dimensions,
                        "Timestamp": timestamp,
                        "Values": numbers,
                        "Unit": metric.get("Unit", "None"),
                    },
                )


def records(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        start = line.find("{")
        try:
            record = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            yield record


def publish(log: Path, offset: int, cloudwatch: Any) -> int:
    """Put the metrics of ``log``'s lines from byte ``offset`` into ``cloudwatch``; return the new offset."""
    if not log.exists():
        return offset
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode("utf-8", errors="replace")
        end = file.tell()
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for record in records(text):
        for namespace, datum in datums(record):
            by_namespace.setdefault(namespace, []).append(datum)
    for namespace, items in by_namespace.items():
        for start in range(0, len(items), PUT_BATCH):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=items[start : start + PUT_BATCH])
    return end
