"""What a vendor's shared limits cost each vendor request: the state-table calls they add (counted) and the time
(measured), four containers' guards on the state table (moto) taking turns at the vendor's rate, beside the
state table's own claim on the same moto in the same run."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import boto3

from benchmarks.stats import Row, Samples
from custsync.rate_limit import RateLimiter
from custsync.vendor_guard import VendorGuard
from custsync.vendor_health import VendorHealth
from custsync.vendor_rows import DynamoVendorRows
from devkit.stack.local import LocalStack
from devkit.stack.template import REGION

CONTAINERS = 4
THREADS = 3  # calls at once in each container
RATE = 50  # requests a second for all of them, below what they ask for: the count stays ahead of the clock
REQUESTS = 25  # each thread's: six seconds of the rate


def _client(stack: LocalStack, counted: Counter[str]) -> Any:
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=stack.endpoint_url)

    def count(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    client.meta.events.register("before-call.dynamodb", count)
    return client


def _container(stack: LocalStack, counted: Counter[str]) -> VendorGuard:
    """One container's guard, as the runtime builds it (its own DynamoDB client, health cache and slots)."""
    rows = DynamoVendorRows(stack.physical["SyncStateTable"]["Ref"], "bench", _client(stack, counted))
    health = VendorHealth(rows, "bench", threshold=5, cooldown_seconds=30, cache_seconds=2.0)
    return VendorGuard("bench", health, RateLimiter(rows, RATE), rate_wait_seconds=5.0, call_timeout_seconds=10.0)


def limits_rows(stack: LocalStack, runs: int) -> list[Row]:
    calls_per_request, guard_ms, claim_ms = [], [], []
    counted: Counter[str] = Counter()
    for _ in range(runs):
        before, requests = sum(counted.values()), _requests([_container(stack, counted) for _ in range(CONTAINERS)])
        calls_per_request.append((sum(counted.values()) - before) / len(requests))
        guard_ms.append(sorted(requests)[len(requests) // 2])
        claim_ms.append(_claim_ms(stack))
    made = runs * CONTAINERS * THREADS * REQUESTS
    note = (
        f"{CONTAINERS} containers x {THREADS} threads, {RATE}/s shared; a request: GetItem "
        f"{counted['GetItem'] / made:.2f} (#health, once a container every HEALTH_CACHE_SECONDS), UpdateItem "
        f"{counted['UpdateItem'] / made:.2f} (#rate: one serves a container's waiting requests; a second when a "
        "quiet spell restarts the count)"
    )
    return [
        Row(
            "State-table calls the shared limits add per vendor request",
            Samples.of(calls_per_request, "calls"),
            None,
            "-",
            None,
            note,
        ),
        Row(
            "A vendor request's time in the shared limits (its turn at the rate included)",
            Samples.of(guard_ms),
            Samples.of(claim_ms),
            "-",
            None,
            f"floor: the state table's claim on the same moto; {RATE}/s: a turn every {1000 / RATE:.0f} ms",
        ),
    ]


def _requests(guards: list[VendorGuard]) -> list[float]:
    """Each container's threads making their requests as fast as their turns come: each request's time in the
    hooks every vendor request passes, its wait for its turn included."""
    timings: list[float] = []
    lock = threading.Lock()

    def requests(guard: VendorGuard) -> None:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            guard.requests().before()
            with lock:
                timings.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=requests, args=(g,)) for g in guards for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def _claim_ms(stack: LocalStack) -> float:
    """One conditional UpdateItem, as the claim makes: the median of twenty."""
    from custsync.state import DynamoStateStore

    store = DynamoStateStore(stack.physical["SyncStateTable"]["Ref"], "bench", _client(stack, Counter()))
    timings = []
    for n in range(20):
        started = time.perf_counter()
        claim = store.claim(f"BENCH-CLAIM-{n}", 60)
        timings.append((time.perf_counter() - started) * 1000)
        store.release(claim)
    return sorted(timings)[len(timings) // 2]
