"""What canonical addresses cost the webhook: pycountry's ISO 3166 tables, loaded on a container's first address.

Measured in the runtime's interpreter laid out as Lambda's, from the built layer (which ships the tables alone):
the first ``region_code`` of a new container (the tables read and indexed), beside the floor of the webhook's own
imports at its cold start, which load no table. A vendor function never loads them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from benchmarks.stats import Row, Samples
from devkit.stack.artifact import BuiltArtifact

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "import os, sys, time; sys.path[:0] = os.environ['LAMBDA_SYS_PATH'].split(os.pathsep); "
    "t = time.perf_counter(); import custsync.webhook; imports = time.perf_counter() - t; "
    "assert 'pycountry' not in sys.modules; "
    "t = time.perf_counter(); from custsync.geo import region_code; region_code('US', 'Kentucky'); "
    "first = time.perf_counter() - t; print(imports * 1000, first * 1000)"
)


def first_address_row(runs: int) -> Row:
    artifact = BuiltArtifact(ROOT)
    env = {"LAMBDA_SYS_PATH": artifact.sys_path("WebhookFunction"), "POWERTOOLS_TRACE_DISABLED": "true"}
    imports, first = [], []
    for _ in range(runs):
        command = [*artifact.interpreter(), "-c", SCRIPT]
        output = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True)
        cold, address = (float(value) for value in output.stdout.split())
        imports.append(cold)
        first.append(address)
    measured, floor = Samples.of(first), Samples.of(imports)
    return Row(
        "Webhook's first address in a container (pycountry's ISO 3166 tables loaded)",
        measured,
        floor,
        "less than the webhook's cold-start imports",
        measured.median < floor.median,
        "floor: the webhook's imports at cold start, which load no table; later addresses: microseconds",
    )
