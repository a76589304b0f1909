"""Benchmarks, on loopback only: mapping cost, in-process throughput through the state table and a
simulator, and cold and warm invocations under the Lambda Runtime Interface Emulator.

    python -m benchmarks.run [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in ("functions", "layers/shared"):
    sys.path.insert(0, str(ROOT / extra))

from custsync.config import VendorSettings  # noqa: E402
from custsync.connector import SyncContext  # noqa: E402
from custsync.fanout import FanOut  # noqa: E402
from custsync.model import Customer, CustomerChange  # noqa: E402
from custsync.transport.http import CallLimits  # noqa: E402
from devkit.stack.local import LocalStack, load_secrets, on_free_ports  # noqa: E402
from devkit.stack.pump import deliver  # noqa: E402

Row = tuple[str, str, str]
CUSTOMER = {
    "key": "BENCH-1",
    "company": "Northwind",
    "email": "bench@northwind.example",
    "phones": {"main": "+4681234567", "mobile": "+46701112233"},
    "address": {"region": "Stockholm", "country": "SE"},
    "status": "active",
    "notes": "Key account",
    "attributes": {"rank": "Gold", "industry": "Retail"},
}


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def mapping_benchmark() -> Row:
    from exsalerate.connector import ExsalerateConnector

    settings = VendorSettings(vendor="exsalerate", state_table="t", vendor_secret_name="s", dlq_url="q")
    secret = {"base_url": "http://127.0.0.1:9", "username": "u", "password": "p", "assigned_to_email": "a@b.example"}
    connector = ExsalerateConnector(settings, lambda force: secret)
    customer = Customer.model_validate(CUSTOMER)
    context = SyncContext(ids={"id": "1"})
    samples = timed(lambda: connector.to_request(customer, context), 5000)
    return (
        "Exsalerate mapping (to_request), per change",
        f"{statistics.median(samples) * 1e6:.1f} µs median",
        "5000 runs",
    )


@contextmanager
def local_stack() -> Iterator[LocalStack]:
    secrets = on_free_ports(load_secrets(ROOT / "local" / "secrets.json"))
    with LocalStack(ROOT, secrets, log_dir=Path(tempfile.mkdtemp(prefix="bench-"))) as stack:
        yield stack


def changes(count: int, customers: int) -> list[CustomerChange]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        CustomerChange.model_validate(
            {
                "change_id": f"bench-{n}",
                "source": "bench",
                "occurred_at": (start + timedelta(seconds=n)).isoformat(),
                "customer": {**CUSTOMER, "key": f"BENCH-{n % customers}", "notes": f"change {n}"},
            }
        )
        for n in range(count)
    ]


# The patterns redact_text used before it was made linear, for comparison.
OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
OLD_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
ADVERSARIAL = {
    "no @": "ab.cd+ef-",
    "digits and gaps": "1 2 3 (4) 5-",
    "text with addresses": "Customer ada@example.com, phone +46 70 123 45 67, already exists. ",
}


def redaction_benchmark() -> list[Row]:
    """redact_text on 250 KB / 500 KB / 1 MB: linear when each doubling doubles the time."""
    from custsync.observability import redact_text

    rows = []
    for name, unit in ADVERSARIAL.items():
        medians = []
        for size in (256 * 1024, 512 * 1024, 1024 * 1024):
            text = (unit * (size // len(unit) + 1))[:size]
            medians.append(statistics.median(timed(lambda text=text: redact_text(text), 5)))  # type: ignore[misc]
        old_text = (unit * (20_000 // len(unit) + 1))[:20_000]
        old = statistics.median(timed(lambda text=old_text: OLD_PHONE.sub("*", OLD_EMAIL.sub("*", text)), 3))  # type: ignore[misc]
        rows.append(
            (
                f"redact_text, {name}: 256 KB / 512 KB / 1 MB",
                " / ".join(f"{m * 1000:.0f} ms" for m in medians)
                + f" (x{medians[1] / medians[0]:.1f}, x{medians[2] / medians[1]:.1f} per doubling: linear)",
                f"median of 5; the old patterns took {old * 1000:.0f} ms on 20 KB of the same",
            )
        )
    return rows


def wsdl_benchmark() -> list[Row]:
    from custsync.transport import soap

    rows = []
    for vendor in ("exigo", "centra"):
        path = ROOT / "functions" / vendor / f"{vendor}.wsdl"

        def parse(path: Path = path, vendor: str = vendor) -> None:
            soap.load_wsdl.cache_clear()
            soap.load_wsdl(path, vendor, CallLimits())

        samples = timed(parse, 20)
        cached = timed(lambda path=path, vendor=vendor: soap.load_wsdl(path, vendor, CallLimits()), 1000)  # type: ignore[misc]
        rows.append(
            (
                f"{vendor}.wsdl: parse (once per container) / cached lookup",
                f"{statistics.median(samples) * 1000:.1f} ms / {statistics.median(cached) * 1e6:.1f} µs",
                "20 parses, 1000 lookups",
            )
        )
    return rows


def centra_batch_benchmark(count: int) -> Row:
    with local_stack() as stack:
        function = "CentraFunction"
        url, arn = stack.queue_of(function)
        fanout = FanOut({"centra": url}, stack.sqs)
        for change in changes(count, customers=count):
            fanout.send(change)
        started = time.perf_counter()
        delivery = deliver(stack.sqs, url, arn, lambda event: stack.invoke(function, event), max_batches=count)
        elapsed = time.perf_counter() - started
        calls = len(stack.simulators["centra"].calls)
    return (
        "Centra: SQS batches of 10 -> one customers_Update call each",
        f"{delivery.delivered / elapsed:.1f} changes/s, {calls} SOAP calls",
        f"{delivery.delivered} changes in {delivery.batches} batches, {delivery.failed} failed",
    )


def emulator_benchmarks(count: int) -> list[Row]:
    rows: list[Row] = []
    with local_stack() as stack:
        function = "ExsalerateFunction"
        started = time.perf_counter()
        stack.emulator(function)
        stack.invoke(function, {"Records": []})
        rows.append(
            (
                "Cold start under the emulator (process start + init + first invoke)",
                f"{time.perf_counter() - started:.2f} s",
                "1 run",
            )
        )
        warm = timed(lambda: stack.invoke(function, {"Records": []}), 50)
        rows.append(
            (
                "Warm invoke, empty batch, emulator round trip",
                f"{statistics.median(warm) * 1000:.1f} ms median",
                "50 runs",
            )
        )

        url, arn = stack.queue_of(function)
        fanout = FanOut({"exsalerate": url}, stack.sqs)
        for change in changes(count, customers=count // 2):
            fanout.send(change)
        started = time.perf_counter()
        delivery = deliver(stack.sqs, url, arn, lambda event: stack.invoke(function, event), max_batches=count)
        elapsed = time.perf_counter() - started
        puts = len(stack.simulators["exsalerate"].calls_to("/api/Customer", "PUT"))
        rows.append(
            (
                "SQS -> emulator -> state table -> simulator, end to end",
                f"{delivery.delivered / elapsed:.1f} changes/s",
                f"{delivery.delivered} changes in {delivery.batches} batches, {puts} PUTs, {delivery.failed} failed",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="write the results as Markdown to this file")
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    rows = [
        *redaction_benchmark(),
        mapping_benchmark(),
        *wsdl_benchmark(),
        *emulator_benchmarks(args.changes),
        centra_batch_benchmark(args.changes),
    ]
    table = "\n".join(
        ["| benchmark | result | sample |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    )
    print(table)
    if args.write:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        args.write.write_text(
            "# Benchmarks\n\n"
            f"Produced by `make bench` (`python -m benchmarks.run --write BENCHMARKS.md`) on {machine}, "
            f"{datetime.now(UTC):%Y-%m-%d}. Everything runs on loopback: moto, the vendor simulators and the "
            "Lambda Runtime Interface Emulator. These are local numbers, useful to compare changes, not "
            "predictions of Lambda in AWS.\n\n" + table + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
