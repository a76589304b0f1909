"""The vendor functions measured as they deploy: the built artifact under the Lambda Runtime Interface Emulator,
each beside a floor run the same way in the same stack.

moto's SQS FIFO slows sharply as a queue deepens (a receive takes 5 ms at depth 0, seconds at depth 1,000), so
every measure here queues at most one batch at a time: the figures are this project's, not moto's.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx

from benchmarks.in_runtime import Context
from benchmarks.stats import Row, Samples, ratio_row
from custsync.fanout import FanOut
from custsync.model import CustomerChange
from devkit.stack.artifact import BuiltArtifact
from devkit.stack.emulator import Emulator
from devkit.stack.local import LocalStack
from devkit.stack.pump import sqs_event
from devkit.stack.template import FunctionSpec

FLOOR_HANDLER = '''"""The floor: a function that imports only Powertools' Logger and answers an SQS batch."""
from aws_lambda_powertools import Logger

logger = Logger(service="floor")


def handler(event, context):
    logger.info("batch", extra={"records": len(event.get("Records", []))})
    return {"batchItemFailures": []}
'''
_change_ids = itertools.count()
# The vendor's shared rate set where it cannot bind: these rows measure our own time (the limiter's state-table
# calls included), not the 25 requests a second vendor.yaml allows (benchmarks/limits.py measures the limits).
UNBOUND_RATE = {"REQUESTS_PER_SECOND": "100000"}


def floor_function(root: Path, directory: Path) -> tuple[BuiltArtifact, FunctionSpec]:
    """The floor function, built beside the real local layer and runtime, as ``make build`` lays them out."""
    artifact = BuiltArtifact(root).beside(directory, "FloorFunction", "floor", FLOOR_HANDLER)
    return artifact, FunctionSpec("FloorFunction", directory, "floor.app.handler", 30, {})


class FunctionBench:
    def __init__(self, stack: LocalStack, workdir: Path) -> None:
        self.stack = stack
        self.floor_artifact, self.floor_spec = floor_function(stack.root, workdir / "floor")
        self.artifact = BuiltArtifact(stack.root)

    # -- events ----------------------------------------------------------------------------------------
    def queued_batch(self, function: str, customers: list[str]) -> tuple[dict[str, Any], list[Any]]:
        """One change per customer queued for ``function``, received as Lambda would receive them."""
        url, arn = self.stack.queue_of(function)
        fanout = FanOut({"v": url}, self.stack.sqs)
        for key in customers:
            n = next(_change_ids)
            fanout.send(
                CustomerChange.model_validate(
                    {
                        "change_id": f"bench-{n}",
                        "source": "bench",
                        "occurred_at": f"2026-11-20T09:{n // 60 % 60:02d}:{n % 60:02d}Z",
                        "customer": {"key": key, "company": f"Bench {key} {n}", "first_name": "Ada", "last_name": "B"},
                    }
                )
            )
        messages: list[Any] = []
        while len(messages) < len(customers):
            got = self.stack.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
            ).get("Messages", [])
            messages.extend(got)
        return sqs_event(messages, arn), messages

    def done(self, function: str, messages: list[Any]) -> None:
        url, _ = self.stack.queue_of(function)
        for message in messages:
            self.stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    @contextmanager
    def running(self, function: str | None) -> Iterator[Emulator]:
        """``function`` (None: the floor) under the emulator, from its built artifact."""
        if function is None:
            emulator = Emulator(self.floor_spec, {}, self.floor_artifact, self.stack.log_dir / "floor.log")
        else:
            spec = self.stack.template.function(function)
            environment = {**self.stack.emulated_environment(function), **UNBOUND_RATE}
            emulator = Emulator(spec, environment, self.artifact, self.stack.log_dir / f"{function}.log")
        try:
            yield emulator.start()
        finally:
            emulator.stop()

    def invoke(self, emulator: Emulator, event: dict[str, Any]) -> float:
        started = time.perf_counter()
        response = emulator.invoke(event)
        elapsed = (time.perf_counter() - started) * 1000
        assert response == {"batchItemFailures": []}, response
        return elapsed

    # -- measures --------------------------------------------------------------------------------------
    def cold_start(self, function: str | None, runs: int) -> Samples:
        """Process start, init and the first invocation: a 1-record batch of a customer never seen."""
        samples = []
        for _ in range(runs):
            target = function or "ExsalerateFunction"
            event, messages = self.queued_batch(target, [f"COLD-{next(_change_ids)}"])
            started = time.perf_counter()
            with self.running(function) as emulator:
                assert emulator.invoke(event) == {"batchItemFailures": []}
                samples.append((time.perf_counter() - started) * 1000)
            self.done(target, messages)
        return Samples.of(samples)

    def warm_per_record(self, runs: int) -> tuple[Samples, float | None]:
        """A warm Exsalerate function, batches of 10 changes of 10 known customers: time per record; peak RSS."""
        customers = [f"WARM-{n}" for n in range(10)]
        with self.running("ExsalerateFunction") as emulator:
            event, messages = self.queued_batch("ExsalerateFunction", customers)  # first sightings, not measured
            self.invoke(emulator, event)
            self.done("ExsalerateFunction", messages)
            samples = []
            for _ in range(runs):
                event, messages = self.queued_batch("ExsalerateFunction", customers)
                samples.append(self.invoke(emulator, event) / len(customers))
                self.done("ExsalerateFunction", messages)
            return Samples.of(samples), emulator.runtime_peak_rss_mib()

    def floor_per_record(self, runs: int) -> Samples:
        """One httpx PUT to the simulator, one GetItem and one PutItem on the state table, in this process."""
        secret = self.stack.secrets["customer-sync/local/exsalerate"]
        table = self.stack.physical["SyncStateTable"]["Ref"]
        dynamodb = boto3.client("dynamodb")
        body = {"SiteOwnerId": 1, "AssignedToEmail": "a@example.com", "CustomerName": "Floor AB", "RefCode": "FLOOR"}
        key = {"vendor": {"S": "floor"}, "customer_key": {"S": "FLOOR"}}
        samples = []
        with httpx.Client(base_url=secret["base_url"], auth=(secret["username"], secret["password"])) as http:
            for _ in range(runs):
                started = time.perf_counter()
                for _ in range(10):
                    http.put("/api/Customer", json=body).raise_for_status()
                    dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
                    dynamodb.put_item(TableName=table, Item={**key, "customer": {"S": json.dumps(body)}})
                samples.append((time.perf_counter() - started) * 100)  # ms per record
        return Samples.of(samples)

    def concurrent_customers(self, runs: int, latency: float = 0.1) -> tuple[Samples, Samples]:
        """A batch of 10 customers against a vendor answering in ``latency``; the floor is one customer's chain."""
        simulator = self.stack.simulators["exsalerate"]
        customers = [f"FIFO-{n}" for n in range(10)]
        with self.running("ExsalerateFunction") as emulator:
            event, messages = self.queued_batch("ExsalerateFunction", customers)
            self.invoke(emulator, event)
            self.done("ExsalerateFunction", messages)
            simulator.faults.add("latency", delay=latency, method="PUT", count=10**6)
            batch, single = [], []
            for _ in range(runs):
                event, messages = self.queued_batch("ExsalerateFunction", customers)
                batch.append(self.invoke(emulator, event))
                self.done("ExsalerateFunction", messages)
                event, messages = self.queued_batch("ExsalerateFunction", customers[:1])
                single.append(self.invoke(emulator, event))
                self.done("ExsalerateFunction", messages)
            simulator.faults.clear()
        return Samples.of(batch), Samples.of(single)

    def floor_rss(self) -> float | None:
        with self.running(None) as emulator:
            event, messages = self.queued_batch("ExsalerateFunction", ["RSS-FLOOR"])
            emulator.invoke(event)
            self.done("ExsalerateFunction", messages)
            return emulator.runtime_peak_rss_mib()


def function_rows(stack: LocalStack, workdir: Path, runs: int) -> tuple[list[Row], dict[str, float]]:
    """The rows, and the figures the cost estimate needs (ms per record warm, MiB peak)."""
    bench = FunctionBench(stack, workdir)
    floor = bench.cold_start(None, runs)
    rows = []
    for function in ("ExsalerateFunction", "ExigoFunction", "CentraFunction"):
        name = f"Cold start to the first 1-record SQS response: {function}"
        note = "a reference: the goal is against the function by hand (below)"
        rows.append(Row(name, bench.cold_start(function, runs), floor, "- (floor: Logger only)", None, note))
    per_record, rss = bench.warm_per_record(runs * 2)
    rows.append(
        ratio_row(
            "Warm, per record: Exsalerate, batches of 10 customers",
            per_record,
            bench.floor_per_record(runs * 2),
            1.5,
            "floor: one httpx PUT + one GetItem + one PutItem, in process; in the way: moto's UpdateItem (Notes)",
        )
    )
    batch, single = bench.concurrent_customers(runs)
    rows.append(
        ratio_row(
            "A batch of 10 customers, vendor answering in 100 ms",
            batch,
            single,
            1.3,
            "floor: one customer's chain, same function and latency; in the way: moto, one call at a time (Notes)",
        )
    )
    floor_rss = bench.floor_rss() or 0.0
    peak = rss or 0.0
    rows.append(
        Row(
            "Peak RSS of a warm function (Exsalerate, after the batches above)",
            Samples.of([peak], "MiB"),
            Samples.of([floor_rss], "MiB"),
            "≤ 128 MiB: 256 MB configured, half to spare",
            peak <= 128,
            "VmHWM of the runtime process",
        )
    )
    return rows, {"ms_per_record": per_record.median, "batch_ms": batch.median, "rss_mib": peak}


def in_memory_concurrency_row(stack: LocalStack, runs: int, latency: float = 0.1) -> Row:
    """The same batch with the state table in memory, the function in this process: how our concurrency
    scales once moto's UpdateItem (tens of ms each, one at a time under its lock) is out of the way."""
    import importlib
    import os

    from custsync.state_memory import InMemoryStateStore

    os.environ.update({**stack.function_environment("ExsalerateFunction"), **UNBOUND_RATE})
    build_handler = importlib.import_module("custsync.runtime").build_handler
    handler = build_handler(importlib.import_module("exsalerate.connector").ExsalerateConnector)
    handler.runtime.engine.store = InMemoryStateStore()
    bench = FunctionBench.__new__(FunctionBench)
    bench.stack = stack
    customers = [f"MEM-{n}" for n in range(10)]

    def run(keys: list[str]) -> float:
        event, messages = bench.queued_batch("ExsalerateFunction", keys)
        started = time.perf_counter()
        assert handler(event, Context()) == {"batchItemFailures": []}
        elapsed = (time.perf_counter() - started) * 1000
        bench.done("ExsalerateFunction", messages)
        return elapsed

    run(customers)
    stack.simulators["exsalerate"].faults.add("latency", delay=latency, method="PUT", count=10**6)
    batch = Samples.of([run(customers) for _ in range(runs)])
    single = Samples.of([run(customers[:1]) for _ in range(runs)])
    stack.simulators["exsalerate"].faults.clear()
    return ratio_row(
        "A batch of 10 customers, vendor answering in 100 ms, state in memory (in process)",
        batch,
        single,
        1.3,
        "the row above without moto: the same code, the state store in memory",
    )
