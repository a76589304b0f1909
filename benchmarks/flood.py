"""What a flood of unsigned webhooks costs: the warm webhook answering an unsigned POST (401), from the built
artifact under the emulator, beside the floor function's warm answer; then the bill per million such requests.

    python -m benchmarks.flood [--runs N]     (the flood rows and the cost section alone)

The webhook is open to the internet by design (senders sign the body, nothing else). A flood the stage's throttling
lets through costs an API Gateway request, a Lambda request, the 401's billed duration and its log lines; above
the stage's rate API Gateway answers 429 without invoking the function, and the webhook's reserved concurrency
caps what it can take from the vendor functions.

Prices: list prices for us-east-1 (N. Virginia), on-demand, as benchmarks/cost.py's (PRICES_AS_OF); API Gateway's
REST API price is the first tier (333 million requests a month) on https://aws.amazon.com/api-gateway/pricing/,
unchanged since its tiered pricing of 2018-11. Free tiers left out. Check the pricing pages before relying on them.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.cost import LAMBDA_ARM_GB_SECOND, LAMBDA_PER_REQUEST, LOGS_PER_GB, MEMORY_GB, PRICES_AS_OF
from benchmarks.functions import floor_function
from benchmarks.stats import Row, Samples, table
from devkit.stack.emulator import Emulator
from devkit.stack.local import LocalStack
from devkit.stack.template import Template

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK = "WebhookFunction"
API_GATEWAY_REST_PER_REQUEST = 3.50 / 1_000_000
REQUESTS = 1_000_000
# The runtime's REPORT line, as Lambda writes it: the invocation's duration and what is billed of it.
_REPORT = re.compile(r"^REPORT RequestId: .*?\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms", re.M)


def unsigned_event(root: Path = ROOT) -> dict[str, Any]:
    """Shopify's sample webhook without its signature, as API Gateway hands a forged POST to the function."""
    event: dict[str, Any] = json.loads((root / "events" / "webhook" / "01-shopify-customers-update.json").read_text())
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "x-shopify-hmac-sha256"}
    return {**event, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()}}


def access_log_bytes(template: Template) -> int:
    """One access log line: the stage's format with each variable as long as a typical value (a 36-character
    request id, an IPv4 address, a resource path...): 24 characters each."""
    (api,) = template.of_type("AWS::Serverless::Api").values()
    fields = json.loads(api["Properties"]["AccessLogSetting"]["Format"])
    return len(json.dumps(dict.fromkeys(fields, "x" * 24))) + 1


@dataclass(frozen=True)
class FloodCost:
    api_gateway: float
    lambda_requests: float
    lambda_duration: float
    logs: float

    @property
    def total(self) -> float:
        return self.api_gateway + self.lambda_requests + self.lambda_duration + self.logs


def per_million(billed_ms: float, log_bytes: float) -> FloodCost:
    """A million requests that reach the function: billed per started millisecond, at the configured memory."""
    return FloodCost(
        api_gateway=REQUESTS * API_GATEWAY_REST_PER_REQUEST,
        lambda_requests=REQUESTS * LAMBDA_PER_REQUEST,
        lambda_duration=REQUESTS * math.ceil(billed_ms) / 1000 * MEMORY_GB * LAMBDA_ARM_GB_SECOND,
        logs=REQUESTS * log_bytes / 1e9 * LOGS_PER_GB,
    )


@dataclass(frozen=True)
class FloodFigures:
    answer_ms: Samples  # the invocation as the emulator answers it (what the caller waits for, less API Gateway)
    duration_ms: Samples  # the runtime's REPORT line: the invocation's duration
    billed_ms: Samples  # and what of it is billed (whole milliseconds, rounded up)
    function_log_bytes: float  # what the function and the runtime write to CloudWatch per request
    access_log_bytes: int
    rate_limit: int
    reserved_concurrency: int

    @property
    def cost(self) -> FloodCost:
        return per_million(self.billed_ms.median, self.function_log_bytes + self.access_log_bytes)


def _cloudwatch_bytes(log: Path) -> int:
    """What CloudWatch would keep of an emulator log: every line but the emulator's own ``(rapid)`` lines."""
    return sum(len(line.encode()) + 1 for line in log.read_text(errors="replace").splitlines() if "(rapid)" not in line)


def measure(stack: LocalStack, workdir: Path, runs: int, per_run: int = 30) -> tuple[Row, FloodFigures]:
    """The warm webhook answering ``runs * per_run`` unsigned POSTs, and the warm floor answering as many."""
    event = unsigned_event(stack.root)
    webhook = stack.emulator(WEBHOOK)
    answer = webhook.invoke(event)
    assert answer.get("statusCode") == 401, answer  # warm, and refusing
    log = webhook.log_path
    log_before, reports_before = _cloudwatch_bytes(log), len(_REPORT.findall(log.read_text()))
    answers = []
    for _ in range(runs * per_run):
        started = time.perf_counter()
        assert webhook.invoke(event)["statusCode"] == 401
        answers.append((time.perf_counter() - started) * 1000)
    time.sleep(0.2)  # the emulator writes its REPORT line after answering
    text = log.read_text()
    reports = _REPORT.findall(text)[reports_before:]
    log_bytes = (_cloudwatch_bytes(log) - log_before) / len(answers)

    floor_artifact, floor_spec = floor_function(stack.root, workdir / "flood-floor")
    floor_answers = []
    with Emulator(floor_spec, {}, floor_artifact, workdir / "flood-floor.log") as floor:
        floor.invoke({"Records": []})
        for _ in range(runs * per_run):
            started = time.perf_counter()
            floor.invoke({"Records": []})
            floor_answers.append((time.perf_counter() - started) * 1000)

    parameters = stack.template.parameters
    figures = FloodFigures(
        answer_ms=Samples.of(answers),
        duration_ms=Samples.of([float(duration) for duration, _ in reports]),
        billed_ms=Samples.of([float(billed) for _, billed in reports]),
        function_log_bytes=log_bytes,
        access_log_bytes=access_log_bytes(stack.template),
        rate_limit=int(parameters["ApiThrottlingRateLimit"]),
        reserved_concurrency=int(parameters["WebhookReservedConcurrency"]),
    )
    row = Row(
        "Warm webhook answering an unsigned POST (401)",
        figures.answer_ms,
        Samples.of(floor_answers),
        "≤ 2x: a forged request costs about a bare invocation",
        figures.answer_ms.median <= 2 * Samples.of(floor_answers).median,
        f"floor: the Logger-only function, warm; the 401's Lambda duration {figures.duration_ms.show()}",
    )
    return row, figures


def flood_section(figures: FloodFigures) -> str:
    cost = figures.cost
    billed = math.ceil(figures.billed_ms.median)
    busy = figures.rate_limit * figures.duration_ms.median / 1000
    per_hour = cost.total * figures.rate_limit * 3600 / REQUESTS
    lines = [
        f"## A flood of unsigned webhooks: cost per million requests (list prices of {PRICES_AS_OF})",
        "",
        f"From this run: the warm webhook answers an unsigned POST with 401 in {figures.duration_ms.median:.1f} ms "
        f"of Lambda duration (billed {billed} ms at {int(MEMORY_GB * 1024)} MB, arm64) and writes "
        f"{figures.function_log_bytes:.0f} bytes of log a request; the API's access log adds "
        f"~{figures.access_log_bytes} bytes. Requests above the stage's rate (ApiThrottlingRateLimit, "
        f"{figures.rate_limit}/s by default) are answered 429 by API Gateway without invoking the function (and, "
        "as AWS answers on re:Post, not billed); the webhook's reserved concurrency "
        f"(WebhookReservedConcurrency, {figures.reserved_concurrency}) caps what it takes from the vendor functions.",
        "",
        "| item | basis | USD |",
        "|---|---|---|",
        f"| API Gateway REST requests | 1,000,000 x $3.50/M | {cost.api_gateway:.2f} |",
        f"| Lambda requests | 1,000,000 x $0.20/M | {cost.lambda_requests:.2f} |",
        f"| Lambda duration (arm64) | 1,000,000 x {billed} ms x {MEMORY_GB} GB x ${LAMBDA_ARM_GB_SECOND:.10f}/GB-s | "
        f"{cost.lambda_duration:.2f} |",
        f"| CloudWatch Logs ingestion | {figures.function_log_bytes + figures.access_log_bytes:.0f} bytes a request "
        f"x $0.50/GB | {cost.logs:.2f} |",
        f"| **total** | | **{cost.total:.2f}** |",
        "",
        f"At the default rate limit a flood reaches the function at most {figures.rate_limit} times a second: "
        f"{per_hour:.2f} USD an hour, using {busy:.1f} of the webhook's {figures.reserved_concurrency} reserved "
        "concurrent executions.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    from devkit.stack.artifact import BuiltArtifact
    from devkit.stack.local import load_secrets, moto_process, on_free_ports

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    BuiltArtifact(ROOT).check(WEBHOOK)
    secrets = on_free_ports(load_secrets(ROOT / "local" / "secrets.json"))
    workdir = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    with moto_process() as moto, LocalStack(ROOT, secrets, log_dir=workdir, moto_endpoint=moto) as stack:
        row, figures = measure(stack, workdir, args.runs)
    print(table([row]))
    print()
    print(flood_section(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
