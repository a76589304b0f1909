"""What one million customer updates cost at one vendor, from this run's measures and AWS list prices.

Prices: AWS's public list prices for us-east-1 (N. Virginia), on-demand, as published on 2024-11-01 (the day
DynamoDB on-demand prices were halved) and unchanged as far as this project knows; check the pricing pages
before relying on them. Free tiers are left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from custsync.model import Customer
from custsync.state import APPLIED_KEPT, SyncState, state_to_row

PRICES_AS_OF = "2024-11-01, us-east-1"
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
SQS_FIFO_PER_REQUEST = 0.50 / 1_000_000
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1_000_000
LOGS_PER_GB = 0.50
UPDATES = 1_000_000
BATCH = 10
MEMORY_GB = 0.25  # MemorySize 256 in template.yaml
# Per message: the webhook's SendMessage, then a tenth of a ReceiveMessage and of a DeleteMessageBatch.
SQS_REQUESTS_PER_UPDATE = 1.2
LOG_BYTES_PER_UPDATE = 600  # one "change applied" line with its keys


@dataclass(frozen=True)
class Cost:
    lambda_requests: float
    lambda_duration: float
    sqs: float
    dynamodb: float
    logs: float
    pollers: float = 0.0  # provisioned mode's event pollers (benchmarks/scale)

    @property
    def total(self) -> float:
        return self.lambda_requests + self.lambda_duration + self.sqs + self.dynamodb + self.logs + self.pollers


def state_row_kib(customer: Mapping[str, object]) -> float:
    """The size of a state-table row for ``customer``: it sets the write units of each of its two writes."""
    parsed = Customer.model_validate(customer)
    state = SyncState(parsed.key, parsed, dict.fromkeys(parsed.model_fields_set, (1_795_000_000_000_000, "c" * 36)))
    row = {**state_to_row(state), "applied": json.dumps(["c" * 36] * APPLIED_KEPT)}
    return sum(len(str(value)) + len(name) for name, value in row.items()) / 1024


def per_million(batch_ms: float, row_kib: float) -> Cost:
    invocations = UPDATES / BATCH
    write_units = 2 * max(1, -(-row_kib // 1)) * UPDATES  # claim and commit, 1 KB a unit, rounded up
    return Cost(
        lambda_requests=invocations * LAMBDA_PER_REQUEST,
        lambda_duration=invocations * batch_ms / 1000 * MEMORY_GB * LAMBDA_ARM_GB_SECOND,
        sqs=UPDATES * SQS_REQUESTS_PER_UPDATE * SQS_FIFO_PER_REQUEST,
        dynamodb=write_units * DYNAMODB_PER_WRITE_UNIT,
        logs=UPDATES * LOG_BYTES_PER_UPDATE / 1e9 * LOGS_PER_GB,
    )


def cost_section(batch_ms: float, customer: Mapping[str, object]) -> str:
    row_kib = state_row_kib(customer)
    cost = per_million(batch_ms, row_kib)
    lines = [
        f"## Cost of one million customer updates at one vendor (list prices of {PRICES_AS_OF})",
        "",
        f"From this run: a warm batch of {BATCH} takes {batch_ms:.0f} ms locally (Lambda on Graviton will differ), "
        f"{int(MEMORY_GB * 1024)} MB configured; a state row is {row_kib:.1f} KiB (two writes a change).",
        "",
        "| item | basis | USD |",
        "|---|---|---|",
        f"| Lambda requests | {UPDATES // BATCH:,} invocations x $0.20/M | {cost.lambda_requests:.2f} |",
        f"| Lambda duration (arm64) | {UPDATES // BATCH:,} x {batch_ms / 1000:.3f} s x {MEMORY_GB} GB x "
        f"${LAMBDA_ARM_GB_SECOND}/GB-s | {cost.lambda_duration:.2f} |",
        f"| SQS FIFO | {SQS_REQUESTS_PER_UPDATE} requests an update x $0.50/M | {cost.sqs:.2f} |",
        f"| DynamoDB on-demand writes | claim + commit, {max(1, -(-row_kib // 1)):.0f} WRU each x $0.625/M | "
        f"{cost.dynamodb:.2f} |",
        f"| CloudWatch Logs ingestion | {LOG_BYTES_PER_UPDATE} bytes an update x $0.50/GB | {cost.logs:.2f} |",
        f"| **total** | | **{cost.total:.2f}** |",
    ]
    return "\n".join(lines) + "\n"
