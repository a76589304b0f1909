"""``custsync status``: how each vendor is doing, one row a vendor.

- waiting and in flight: the queue's ``ApproximateNumberOfMessages`` and ``...NotVisible`` (in flight: being
  handled, or hidden until a retry's back-off ends);
- oldest: CloudWatch's ``ApproximateAgeOfOldestMessage`` for the queue, its last minute (SQS gives no such
  attribute; a local stack has no SQS metrics, so it shows ``-``);
- DLQ: the dead-letter queue's depth; parked in the last hour, counted by reason (read from the DLQ);
- last applied: the last minute with a ``ChangesApplied`` metric (CloudWatch, the functions' EMF), in the
  last day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.table import Table

from custsync.observability import NAMESPACE, SERVICE
from devkit import dlq
from devkit.target import queue_name

if TYPE_CHECKING:
    from devkit.target import Target

PEEK = 1000  # parked changes read at most, per vendor, for the last hour's reasons
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class VendorStatus:
    vendor: str
    waiting: int
    in_flight: int
    dlq: int
    oldest_seconds: float | None = None
    last_applied: datetime | None = None
    parked_last_hour: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "waiting": self.waiting,
            "inFlight": self.in_flight,
            "oldestSeconds": self.oldest_seconds,
            "dlq": self.dlq,
            "parkedLastHour": dict(self.parked_last_hour),
            "lastApplied": self.last_applied.isoformat() if self.last_applied else None,
        }


def status(target: Target, now: Clock = utc_now, peek: int = PEEK) -> list[VendorStatus]:
    sqs = target.sqs
    rows = []
    for vendor in target.vendors:
        counts = sqs.get_queue_attributes(
            QueueUrl=target.queue_url(vendor),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        dlq_url = target.queue_url(vendor, dlq=True)
        row = VendorStatus(
            vendor,
            waiting=int(counts.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(counts.get("ApproximateNumberOfMessagesNotVisible", 0)),
            dlq=dlq.depth(sqs, dlq_url),
        )
        if row.dlq:
            hour_ago = now() - timedelta(hours=1)
            recent = [parked for parked in dlq.peek(sqs, dlq_url, peek) if parked.parked_at >= hour_ago]
            row.parked_last_hour = Counter(parked.kind for parked in recent)
        rows.append(row)
    _metrics(target, rows, now())
    return rows


def _metrics(target: Target, rows: list[VendorStatus], now: datetime) -> None:
    """Each vendor's oldest message (last 15 minutes) and last applied change (last day), in one call."""
    queries: list[dict[str, Any]] = []
    for n, row in enumerate(rows):
        queue = [{"Name": "QueueName", "Value": queue_name(row.vendor, target.stage)}]
        vendor = [{"Name": "service", "Value": SERVICE}, {"Name": "vendor", "Value": row.vendor}]
        queries += [
            _query(f"oldest{n}", "AWS/SQS", "ApproximateAgeOfOldestMessage", queue, "Maximum"),
            _query(f"applied{n}", NAMESPACE, "ChangesApplied", vendor, "Sum"),
        ]
    answer = target.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(days=1), EndTime=now + timedelta(minutes=1)
    )
    found = {result["Id"]: result for result in answer.get("MetricDataResults", [])}
    for n, row in enumerate(rows):
        oldest = _points(found.get(f"oldest{n}"))
        recent = [(at, value) for at, value in oldest if at >= now - timedelta(minutes=15)]
        row.oldest_seconds = max(recent)[1] if recent else None
        applied = [at for at, value in _points(found.get(f"applied{n}")) if value > 0]
        row.last_applied = max(applied) if applied else None


def _query(query_id: str, namespace: str, metric: str, dimensions: list[dict[str, str]], stat: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
            "Period": 60,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _points(result: dict[str, Any] | None) -> list[tuple[datetime, float]]:
    if result is None:
        return []
    return [
        (at.astimezone(UTC), float(value)) for at, value in zip(result["Timestamps"], result["Values"], strict=True)
    ]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def table(rows: list[VendorStatus], stage: str, now: Clock = utc_now) -> Table:
    """The rows as the operator reads them."""
    grid = Table(title=f"customer-sync {stage}", title_justify="left")
    for column in ("vendor", "waiting", "in flight", "oldest", "DLQ", "parked last hour", "last applied"):
        grid.add_column(column, justify="right" if column in ("waiting", "in flight", "oldest", "DLQ") else "left")
    moment = now()
    for row in rows:
        parked = "\n".join(f"{count} {kind}" for kind, count in row.parked_last_hour.most_common()) or "-"
        applied = "-"
        if row.last_applied is not None:
            at = (
                f"{row.last_applied:%H:%M}"
                if row.last_applied.date() == moment.date()
                else f"{row.last_applied:%Y-%m-%d %H:%M}"
            )
            applied = f"{at} UTC, {_age((moment - row.last_applied).total_seconds())} ago"
        grid.add_row(
            row.vendor,
            str(row.waiting),
            str(row.in_flight),
            _age(row.oldest_seconds),
            str(row.dlq),
            parked,
            applied,
        )
    return grid
