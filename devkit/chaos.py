"""``make chaos``: many partial changes through the local stack while everything that can go wrong does,
then every vendor's records compared, field by field, with the newest value of each field.

The changes (the first of each customer full, the rest partial; some out of order, some redelivered, some
sharing a timestamp, some invalid at one vendor, a few not changes at all) go to each vendor's FIFO queue in
waves, so moto's queues stay shallow. Two workers per queue run the built function under the emulator, as
Lambda's event source would, while the simulators inject latency, 5xx, 429 with Retry-After, resets,
timeouts whose request still lands later and SOAP faults, runtimes are killed with ``kill -9`` mid-batch, and
DynamoDB refuses every request for a while. At the end: lost and stale fields, duplicate applications and
duplicate records, and every parked change with its reason.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from devkit.simulators.base import Simulator
from devkit.stack.local import LocalStack
from devkit.stack.outage import OutageProxy
from devkit.stack.workers import Worker

START = datetime(2026, 11, 1, tzinfo=UTC)
# Timings scaled down so that the run takes minutes, in the same proportions as deployed: the lease
# outlives an invocation, the settle delay outlasts the slowest late landing, the queue hides a message
# longer than an invocation runs.
FUNCTION_TIMEOUT = 8
QUEUE_VISIBILITY = 10
LATE_LANDING_SECONDS = 1.6
FUNCTION_ENVIRONMENT = {
    "CALL_TIMEOUT_SECONDS": "1",
    "DEADLINE_MARGIN_SECONDS": "1",
    "SETTLE_SECONDS": "3",
    "LEASE_SECONDS": "10",
    "BUSY_RETRY_SECONDS": "1",
    "BACKOFF_BASE_SECONDS": "0.5",
    "MAX_BACKOFF_SECONDS": "3",
    "MAX_ATTEMPTS": "10",
    "MAX_RECEIVES": "45",
    "BREAKER_THRESHOLD": "8",
    "BREAKER_COOLDOWN_SECONDS": "2",
}
STATUS = ("active", "inactive")
# Canonical field -> a value unique to (customer, change), so a vendor's value tells which change it came from.
VALUES: dict[str, Callable[[int, int], str]] = {
    "company": lambda c, n: f"Company {c} v{n}",
    "first_name": lambda c, n: f"First{c}v{n}",
    "last_name": lambda c, n: f"Last{c}v{n}",
    "email": lambda c, n: f"c{c}.v{n}@example.com",
    "phones.main": lambda c, n: f"+46{c:04d}{n:05d}",
    "phones.mobile": lambda c, n: f"+47{c:04d}{n:05d}",
    "address.city": lambda c, n: f"City {c} v{n}",
    "address.region": lambda c, n: f"Region {c} v{n}",
    "address.postal_code": lambda c, n: f"{c:04d}-{n:04d}",
    "notes": lambda c, n: f"note {c} v{n}",
    "attributes.rank": lambda c, n: f"R{c}v{n}",
    "attributes.industry": lambda c, n: f"I{c}v{n}",
    "status": lambda c, n: STATUS[(c + n) % 2],
}
# Too long for exactly one vendor: Exsalerate takes 20 characters of phone, Centra 64 of first name.
INVALID = {"phones.main": "+46" + "9" * 25, "first_name": "F" * 70}
# Vendor record field -> (canonical field, how the vendor spells the canonical value).
VENDOR_FIELDS: dict[str, dict[str, tuple[str, Callable[[str], str]]]] = {
    "exsalerate": {
        "CustomerName": ("company", str),
        "CompanyEmail": ("email", str),
        "CompanyPhone": ("phones.main", str),
        "CompanyMobile": ("phones.mobile", str),
        "Region": ("address.region", str),
        "Notes": ("notes", str),
        "Rank": ("attributes.rank", str),
        "IndustryType": ("attributes.industry", str),
        "LeadStatus": ("status", str.title),
    },
    "centra": {
        "firstname": ("first_name", str),
        "lastname": ("last_name", str),
        "email": ("email", str),
        "telephone": ("phones.main", str),
        "city": ("address.city", str),
        "state": ("address.region", str),
        "zipcode": ("address.postal_code", str),
        "status": ("status", str),
    },
}


@dataclass(frozen=True)
class ChaosConfig:
    changes: int = 2000
    customers: int = 200
    vendors: tuple[str, ...] = ("exsalerate", "centra")
    workers: int = 2
    seed: int = 7
    out_of_order: float = 0.07
    redelivered: float = 0.05
    equal_time: float = 0.10
    invalid: float = 0.02
    malformed: int = 3
    kills: int = 8
    outage_seconds: float = 40.0
    fault_rate: float = 0.08  # of vendor calls
    wave: int = 100
    deadline_seconds: float = 1500.0


@dataclass(frozen=True)
class Change:
    change_id: str
    customer: int
    occurred_at: datetime
    fields: dict[str, str]

    @property
    def key(self) -> str:
        return f"CH-{self.customer:04d}"

    def body(self) -> str:
        customer: dict[str, Any] = {"key": self.key}
        for path, value in self.fields.items():
            head, _, child = path.partition(".")
            if child:
                customer.setdefault(head, {})[child] = value
            else:
                customer[head] = value
        return json.dumps(
            {
                "change_id": self.change_id,
                "source": "chaos",
                "occurred_at": self.occurred_at.isoformat(),
                "customer": customer,
            }
        )

    def version(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.change_id)


@dataclass
class Workload:
    changes: list[Change]
    sends: list[tuple[Change | None, str, str]]  # (change, group, body); change None: not a change at all
    invalid_at: dict[str, set[str]]

    @classmethod
    def make(cls, config: ChaosConfig) -> Workload:
        rng = random.Random(config.seed)
        per_customer = [config.changes // config.customers] * config.customers
        for extra in range(config.changes - sum(per_customer)):
            per_customer[extra] += 1
        changes: list[Change] = []
        by_customer: list[list[Change]] = []
        for customer, count in enumerate(per_customer):
            series: list[Change] = []
            second = rng.randint(0, 3600)
            for n in range(count):
                if n and rng.random() >= config.equal_time:
                    second += rng.randint(1, 30)
                chosen = list(VALUES) if n == 0 else rng.sample(list(VALUES), rng.randint(1, 3))
                fields = {path: VALUES[path](customer, n) for path in chosen}
                if n and rng.random() < config.invalid:
                    path = rng.choice(list(INVALID))
                    fields[path] = INVALID[path]
                series.append(
                    Change(
                        f"ch-{customer:04d}-{n:03d}-{rng.randrange(36**4):04x}",
                        customer,
                        START + timedelta(seconds=second),
                        fields,
                    )
                )
            changes.extend(series)
            by_customer.append(series)
        sends = cls._send_order(rng, config, by_customer)
        invalid_at = {
            "exsalerate": {c.change_id for c in changes if c.fields.get("phones.main") == INVALID["phones.main"]},
            "centra": {c.change_id for c in changes if c.fields.get("first_name") == INVALID["first_name"]},
        }
        return cls(changes, sends, invalid_at)

    @staticmethod
    def _send_order(
        rng: random.Random, config: ChaosConfig, by_customer: list[list[Change]]
    ) -> list[tuple[Change | None, str, str]]:
        lanes: list[list[tuple[Change | None, str, str]]] = []
        for series in by_customer:
            order = list(series)
            for index in range(1, len(order) - 1):  # the first stays first: it is the full one
                if rng.random() < config.out_of_order:
                    order[index], order[index + 1] = order[index + 1], order[index]
            lane: list[tuple[Change | None, str, str]] = [(c, c.key, c.body()) for c in order]
            for change in list(order):
                if rng.random() < config.redelivered:
                    lane.insert(
                        rng.randint(lane.index((change, change.key, change.body())) + 1, len(lane)),
                        (change, change.key, change.body()),
                    )
            lanes.append(lane)
        for n in range(config.malformed):
            lanes[rng.randrange(len(lanes))].append((None, f"CH-{n:04d}", '{"change_id": "not a change"'))
        sends: list[tuple[Change | None, str, str]] = []
        while any(lanes):
            for lane in lanes:  # customers interleaved, each in its own order
                if lane:
                    sends.append(lane.pop(0))
        return sends


@dataclass
class Report:
    config: ChaosConfig
    changes: int = 0
    customers: int = 0
    applied: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    parked: list[dict[str, str]] = field(default_factory=list)
    parked_without_reason: int = 0
    parked_but_applied: int = 0
    parked_valid: int = 0
    lost: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    duplicate_applications: int = 0
    duplicate_records: int = 0
    kills: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    refused_by_dynamodb: int = 0
    failed_invocations: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """No field lost or stale, nothing applied twice, every parked change explained and not applied."""
        return not (
            self.lost
            or self.stale
            or self.duplicate_applications
            or self.duplicate_records
            or self.parked_without_reason
            or self.parked_but_applied
        )

    def line(self) -> str:
        reasons = Counter(p["reason"].split(":")[0].split(" after ")[0] for p in self.parked)
        return (
            f"chaos: changes={self.changes} customers={self.customers} vendors={','.join(self.config.vendors)} "
            f"applied={self.applied} skipped(duplicate/stale/no-op)={self.skipped['duplicate']}/"
            f"{self.skipped['stale']}/{self.skipped['no-op']} parked={len(self.parked)} "
            f"({', '.join(f'{k}={v}' for k, v in sorted(reasons.items()))}) parked_valid={self.parked_valid} "
            f"parked_without_reason={self.parked_without_reason} parked_but_applied={self.parked_but_applied} "
            f"lost={len(self.lost)} stale={len(self.stale)} duplicate_calls={self.duplicate_applications} "
            f"duplicate_records={self.duplicate_records} kills={self.kills} "
            f"dynamodb_refusals={self.refused_by_dynamodb} failed_invocations={self.failed_invocations} "
            f"faults={sum(self.faults.values())} seconds={self.seconds:.0f}"
        )


class Chaos:
    def __init__(self, stack: LocalStack, config: ChaosConfig, out: TextIO) -> None:
        self.stack = stack
        self.config = config
        self.out = out
        self.rng = random.Random(config.seed + 1)
        self.workload = Workload.make(config)
        self.report = Report(config, changes=len(self.workload.changes), customers=config.customers)
        self.proxy = OutageProxy(stack.endpoint_url).start()
        self.workers: list[Worker] = []
        self.done = threading.Event()

    # -- the run ---------------------------------------------------------------------------------------
    def run(self) -> Report:
        started = time.monotonic()
        try:
            self._start_workers()
            threads = [
                threading.Thread(target=self._inject_faults, daemon=True),
                threading.Thread(target=self._kill_runtimes, daemon=True),
            ]
            threads.extend(threading.Thread(target=w.run, daemon=True) for w in self.workers)
            for thread in threads:
                thread.start()
            self._feed()
            self._drain(started)
            self.done.set()
            for worker in self.workers:
                worker.stopping.set()
            for thread in threads:
                thread.join(timeout=FUNCTION_TIMEOUT + 15)
            time.sleep(LATE_LANDING_SECONDS + 0.5)  # any call still landing has landed
            self._compare()
        finally:
            self.done.set()
            for worker in self.workers:
                worker.stopping.set()
                worker.emulator.stop()
            self.report.refused_by_dynamodb = self.proxy.refused
            self.proxy.stop()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _start_workers(self) -> None:
        for vendor in self.config.vendors:
            function = f"{vendor.capitalize()}Function"
            url, _ = self.stack.queue_of(function)
            self.stack.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY)})
            environment = {**FUNCTION_ENVIRONMENT, "AWS_ENDPOINT_URL_DYNAMODB": self.proxy.url}
            emulators = self.stack.replicas(
                function, self.config.workers, environment=environment, timeout=FUNCTION_TIMEOUT, log_prefix=vendor
            )
            self.workers.extend(self.stack.workers(function, emulators))

    def _feed(self) -> None:
        """Send in waves, keeping every queue shallow: moto's FIFO receive slows sharply as a queue deepens."""
        sent = 0
        outage_at = len(self.workload.sends) // 3
        queues = {v: self.stack.queue_of(f"{v.capitalize()}Function")[0] for v in self.config.vendors}
        for start in range(0, len(self.workload.sends), self.config.wave):
            while max(self._depth(url) for url in queues.values()) > self.config.wave // 2:
                time.sleep(0.2)
            for change, group, body in self.workload.sends[start : start + self.config.wave]:
                for url in queues.values():
                    self.stack.sqs.send_message(
                        QueueUrl=url,
                        MessageBody=body,
                        MessageGroupId=group,
                        MessageDeduplicationId=f"{change.change_id if change else 'malformed'}-{sent}",
                    )
                sent += 1
                if sent == outage_at and self.config.outage_seconds:
                    self.out.write(f"DynamoDB refuses every request for {self.config.outage_seconds:.0f} s\n")
                    self.proxy.refuse_for(self.config.outage_seconds)
            self.out.write(f"sent {sent}/{len(self.workload.sends)}\n")

    def _drain(self, started: float) -> None:
        queues = [self.stack.queue_of(f"{v.capitalize()}Function")[0] for v in self.config.vendors]
        quiet_since: float | None = None
        while time.monotonic() - started < self.config.deadline_seconds:
            if any(self._depth(url) for url in queues) or self.proxy.refusing:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 2:
                return
            time.sleep(0.5)
        raise TimeoutError(f"the queues did not drain within {self.config.deadline_seconds:.0f} s")

    def _depth(self, url: str) -> int:
        names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes[name]) for name in names)

    # -- what goes wrong -------------------------------------------------------------------------------
    def _inject_faults(self) -> None:
        kinds: list[tuple[str, dict[str, Any]]] = [
            ("latency", {"delay": 0.3}),
            ("status", {"status": 503}),
            ("status", {"status": 429, "retry_after": 1}),
            ("reset", {}),
            ("timeout", {"delay": LATE_LANDING_SECONDS}),  # past the call's deadline; the vendor applies it later
        ]
        seen = dict.fromkeys(self.config.vendors, 0)
        while not self.done.wait(0.2):
            for vendor in self.config.vendors:
                simulator: Simulator = self.stack.simulators[vendor]
                calls, seen[vendor] = len(simulator.calls) - seen[vendor], len(simulator.calls)
                for _ in range(calls):  # each call made since: one more fault ahead with this chance
                    if self.rng.random() >= self.config.fault_rate:
                        continue
                    choices = [*kinds, ("soap_fault", {"code": "Server"})] if vendor == "centra" else kinds
                    kind, options = self.rng.choice(choices)
                    method = {"method": "PUT"} if vendor == "exsalerate" else {}
                    simulator.faults.add(kind, **method, **options)  # type: ignore[arg-type]
                    self.report.faults[f"{vendor}:{kind}"] += 1

    def _kill_runtimes(self) -> None:
        """``kill -9`` a runtime in the middle of a batch, every so often."""
        pause = 60.0 * len(self.workload.sends) / 2000 / max(self.config.kills, 1)
        while self.report.kills < self.config.kills and not self.done.wait(max(pause, 2.0)):
            busy = [w for w in self.workers if w.busy]
            if busy:
                victim = self.rng.choice(busy)
                time.sleep(self.rng.uniform(0.0, 0.2))
                if victim.emulator.kill_runtime():
                    self.report.kills += 1
                    self.out.write(f"killed a {victim.vendor} runtime mid-batch\n")

    # -- the verdict -----------------------------------------------------------------------------------
    def _compare(self) -> None:
        applied = self._outcomes_from_logs()
        for worker in self.workers:
            self.report.failed_invocations += worker.failed_invocations
        for vendor in self.config.vendors:
            parked = self._parked(vendor)
            parked_ids = {p["change_id"] for p in parked}
            for entry in parked:
                if not entry["reason"]:
                    self.report.parked_without_reason += 1
                if entry["change_id"] in applied[vendor]:
                    self.report.parked_but_applied += 1
                if entry["change_id"] not in self.workload.invalid_at[vendor] and entry["change_id"] != "?":
                    self.report.parked_valid += 1
            self.report.parked.extend(parked)
            self._compare_records(vendor, parked_ids)

    def _outcomes_from_logs(self) -> dict[str, set[str]]:
        applied: dict[str, Counter[str]] = {vendor: Counter() for vendor in self.config.vendors}
        for path in sorted(self.stack.log_dir.glob("*-*.log")):
            vendor = path.stem.rsplit("-", 1)[0]
            if vendor not in applied:
                continue
            for entry in _json_lines(path):
                if entry.get("message") == "change applied":
                    applied[vendor][entry["change_id"]] += 1
                elif entry.get("message") == "change skipped":
                    self.report.skipped[str(entry.get("reason", "")).split(":")[0]] += 1
        for counts in applied.values():
            self.report.applied += len(counts)
            self.report.duplicate_applications += sum(1 for n in counts.values() if n > 1)
        return {vendor: set(counts) for vendor, counts in applied.items()}

    def _parked(self, vendor: str) -> list[dict[str, str]]:
        url = self.stack.dlq_of(f"{vendor.capitalize()}Function")
        parked: list[dict[str, str]] = []
        while True:
            messages = self.stack.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
            ).get("Messages", [])
            if not messages:
                return parked
            for message in messages:
                attributes = {k: v.get("StringValue", "") for k, v in message.get("MessageAttributes", {}).items()}
                try:
                    change_id = str(json.loads(message["Body"]).get("change_id", "?"))
                except json.JSONDecodeError:
                    change_id = "?"
                parked.append({"vendor": vendor, "change_id": change_id, "reason": attributes.get("reason", "")})

    def _compare_records(self, vendor: str, parked: set[str]) -> None:
        records = self._records_by_key(vendor)
        for customer in range(self.config.customers):
            key = f"CH-{customer:04d}"
            changes = [c for c in self.workload.changes if c.customer == customer and c.change_id not in parked]
            record = records.get(key, {})
            for vendor_field, (path, spelled) in VENDOR_FIELDS[vendor].items():
                carrying = sorted((c for c in changes if path in c.fields), key=Change.version)
                if not carrying:
                    continue
                expected = spelled(carrying[-1].fields[path])
                held = record.get(vendor_field)
                if held == expected:
                    continue
                older = {spelled(c.fields[path]) for c in carrying[:-1]}
                where = f"{vendor} {key} {vendor_field}: {held!r}, expected {expected!r}"
                (self.report.stale if held in older else self.report.lost).append(where)

    def _records_by_key(self, vendor: str) -> dict[str, dict[str, Any]]:
        records = self.stack.simulators[vendor].records
        if vendor != "exsalerate":
            return {str(k): dict(v) for k, v in records.items()}
        by_ref: dict[str, dict[str, Any]] = {}
        for record in records.values():
            ref = str(record.get("RefCode"))
            if ref in by_ref:
                self.report.duplicate_records += 1
            by_ref[ref] = dict(record)
        return by_ref


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def run_chaos(root: Path, secrets: dict[str, Any], config: ChaosConfig, out: TextIO) -> Report:
    with LocalStack(root, secrets) as stack:
        out.write(
            f"chaos: {config.changes} changes over {config.customers} customers to {', '.join(config.vendors)}; "
            f"logs in {stack.log_dir}\n"
        )
        report = Chaos(stack, config, out).run()
    for problem in [*report.lost[:10], *report.stale[:10]]:
        out.write(f"  {problem}\n")
    out.write(report.line() + "\n")
    return report
