"""One vendor's limits held by four containers of its function: the built Exsalerate function under four
emulators (four runtimes, nothing shared but the state table) drains one queue against a simulator that
counts requests per second and answers 429 above its limit. The vendor never sees more than the limit plus
the slack below; a Retry-After one container gets pauses them all; an outage one container sees opens the
circuit for all of them; nothing is parked.

Real seconds cannot be avoided here (four processes, one simulator): what is asserted are counts, of the
requests the simulator recorded in each window, with margins for the scheduling of a loaded machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from custsync.vendor_rows import DynamoVendorRows
from devkit.simulators.base import RecordedCall, Simulator
from devkit.stack.workers import running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

FUNCTION = "ExsalerateFunction"
CONTAINERS = 4
RATE = 10  # the vendor's limit, and the one set for its function (vendor.yaml's requests_per_second)
# The limiter starts at most RATE requests in any second of the containers' clock, a slot every tenth of a second;
# a request reaches the simulator a little after its slot, and the simulator counts it in the second it arrives.
# The slack: requests up to half a second late (four runtimes, moto and the simulator on a loaded machine).
SLACK = RATE // 2
# How long after the pause or the circuit began a container may still be calling: its view of the shared row is
# HEALTH_CACHE_SECONDS old at most, and a request it let through may take a while to arrive.
SETTLING = 2.5
COOL_DOWN = 8
PAUSE = 8
SETTINGS = {
    "REQUESTS_PER_SECOND": str(RATE),
    "MAX_IN_FLIGHT": "8",
    "EVENT_SOURCE_MAX_CONCURRENCY": str(CONTAINERS),
    "HEALTH_CACHE_SECONDS": "0.5",
    "RATE_WAIT_SECONDS": "5",
    "BREAKER_THRESHOLD": "3",
    "BREAKER_COOLDOWN_SECONDS": str(COOL_DOWN),
    "MAX_ATTEMPTS": "10",
    "BACKOFF_BASE_SECONDS": "0.5",
    "MAX_BACKOFF_SECONDS": "2",
    "BUSY_RETRY_SECONDS": "0.5",
}
START = datetime(2026, 11, 1, tzinfo=UTC)


def test_four_containers_hold_the_vendors_rate_pause_and_circuit(stack: Any) -> None:
    simulator: Simulator = stack.simulators["exsalerate"]
    limit = simulator.limit_rate(RATE)
    rows = DynamoVendorRows(stack.physical["SyncStateTable"]["Ref"], "exsalerate")
    emulators = stack.replicas(FUNCTION, CONTAINERS, environment=SETTINGS, timeout=20)
    feed = Feed(stack)
    with running(stack.workers(FUNCTION, emulators)):
        # The rate: forty customers never seen (a look-up and a create each), as fast as four containers go.
        feed.send(range(40), version=1)
        wait_until(lambda: len(simulator.records) == 40 and feed.drained(), 120)
        assert max(limit.arrived.values()) <= RATE + SLACK, limit.arrived
        assert sum(limit.arrived.values()) >= 80, "every customer was looked up and created"

        # A pause: the vendor asks one container to wait; none calls until then.
        simulator.faults.add("status", status=503, retry_after=PAUSE, method="PUT")
        feed.send(range(20), version=2)
        wait_until(lambda: feed.drained(), 120)
        asked = first_call(simulator, 503)
        assert calls_between(simulator, asked.at + SETTLING, asked.at + PAUSE - 0.5) == [], "every container paused"

        # An outage: the circuit one container opens holds for every one of them.
        simulator.faults.add("status", status=500, message="down", count=100_000)
        feed.send(range(20, 40), version=2)
        wait_until(lambda: rows.read_health().open_until > 0, 60)
        opened_until = rows.read_health().open_until
        time.sleep(max(opened_until - time.time(), 0))
        simulator.faults.clear()
        wait_until(lambda: feed.drained(), 180)

    opened = opened_until - COOL_DOWN
    assert calls_between(simulator, opened + SETTLING, opened_until - 0.5) == [], "no container called while open"
    turned_back = containers_logging(stack.log_dir, "circuit open")
    # Who opened the circuit read above: a container whose probe failed after the cool-down opens it again, later.
    opening = containers_opening(stack.log_dir, opened_until)
    assert opening, "the circuit read from the state table was opened by a container"
    assert len(turned_back) >= 2 and turned_back - opening, "containers that never saw 3 failures stopped too"

    assert feed.parked() == 0
    assert {r["CustomerName"] for r in simulator.records.values()} == {f"Limits {n} v2" for n in range(40)}
    assert max(limit.arrived.values()) <= RATE + SLACK, limit.arrived
    refused = sum(limit.refused.values())
    assert refused <= 3 * SLACK, f"the vendor refused {refused} requests over its limit: {limit.refused}"
    assert simulator.peak_in_flight <= 8, "MAX_IN_FLIGHT, shared out over the containers"


class Feed:
    """Changes onto the function's queue: customers ``Limits <n>``, created, then updated (v2)."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.url, _ = stack.queue_of(FUNCTION)
        self.sent = 0

    def send(self, customers: range, *, version: int) -> None:
        for index in customers:
            self.sent += 1
            customer = {"key": f"LIM-{index:03d}", "company": f"Limits {index} v{version}"}
            body = {
                "change_id": f"lim-{self.sent:04d}",
                "source": "test",
                "occurred_at": (START + timedelta(seconds=self.sent)).isoformat(),
                "customer": customer,
            }
            self.stack.sqs.send_message(
                QueueUrl=self.url,
                MessageBody=json.dumps(body),
                MessageGroupId=customer["key"],
                MessageDeduplicationId=body["change_id"],
            )

    def drained(self) -> bool:
        names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.stack.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)["Attributes"]
        return sum(int(attributes[name]) for name in names) == 0

    def parked(self) -> int:
        url = self.stack.dlq_of(FUNCTION)
        attributes = self.stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.2)


def first_call(simulator: Simulator, status: int) -> RecordedCall:
    return next(call for call in simulator.calls if call.status == status)


def calls_between(simulator: Simulator, start: float, end: float) -> list[RecordedCall]:
    return [call for call in simulator.calls if start <= call.at <= end]


def containers_logging(log_dir: Path, text: str) -> set[str]:
    """The containers (their log files) with a log line carrying ``text``."""
    return {path.name for path in log_dir.glob(f"{FUNCTION}-*.log") if text in path.read_text(errors="replace")}


def containers_opening(log_dir: Path, until: float) -> set[str]:
    """The containers (their log files) that opened the circuit until ``until``."""
    opening = set()
    for path in log_dir.glob(f"{FUNCTION}-*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if "circuit opened for every container" not in line:
                continue
            record = json.loads(line[line.index("{") :])
            if abs(float(record["until"]) - until) < 0.01:
                opening.add(path.name)
    return opening
