"""The functions' EMF records as CloudWatch reads them: each metric of each dimension set, with its values."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aws_lambda_powertools import Metrics

from devkit.stack.emf import datums, records


def test_a_powertools_record_becomes_one_datum_a_metric_with_every_value() -> None:
    metrics = Metrics(service="customer-sync", namespace="CustomerSync")
    metrics.add_dimension(name="vendor", value="exsalerate")
    metrics.add_metric(name="ChangesApplied", unit="Count", value=1)
    metrics.add_metric(name="ChangesApplied", unit="Count", value=1)
    metrics.add_metric(name="VendorLatency", unit="Milliseconds", value=12.5)
    line = json.dumps(metrics.serialize_metric_set())
    metrics.clear_metrics()

    (record,) = records(f"START RequestId: x\n{line}\nnot json {{\n")
    found = {datum["MetricName"]: (namespace, datum) for namespace, datum in datums(record)}
    namespace, applied = found["ChangesApplied"]
    assert namespace == "CustomerSync"
    assert applied["Values"] == [1.0, 1.0]
    assert applied["Unit"] == "Count"
    assert sorted((d["Name"], d["Value"]) for d in applied["Dimensions"]) == [
        ("service", "customer-sync"),
        ("vendor", "exsalerate"),
    ]
    assert found["VendorLatency"][1]["Values"] == [12.5]
    assert applied["Timestamp"] == datetime.fromtimestamp(record["_aws"]["Timestamp"] / 1000, UTC)
