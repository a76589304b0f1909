"""What a vendor function's cold start leaves out, kept out: each of these cost tens to hundreds of ms
(BENCHMARKS.md) and is needed only on a path the function may never take."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {"VENDOR": "exsalerate", "STATE_TABLE": "t", "VENDOR_SECRET_NAME": "s", "DLQ_URL": "q"}
NOT_AT_COLD_START = {
    "aws_xray_sdk": "the X-Ray SDK, with tracing off (the template's Tracing parameter)",
    "aws_lambda_powertools.event_handler": "the event handler, before the first API event",
    "aws_lambda_powertools.utilities.parser.models": "pydantic models of every event source",
    "aws_lambda_powertools.utilities.batch": "Powertools' batch module (custsync.batch answers instead)",
    "aws_lambda_powertools.utilities.data_classes": "the data classes of every event source",
    "asyncio": "asyncio (Powertools' batch module loads it for its async processor)",
    "aws_lambda_powertools.utilities.data_masking": "data masking, before something is parked",
    "zeep": "zeep, for a REST vendor",
}


def loaded_after_importing(module: str, vendor: str) -> set[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    env = {
        **os.environ,
        **ENV,
        "VENDOR": vendor,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "layers/shared")),
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("vendor", ["exsalerate", "exigo"])
def test_a_rest_vendors_cold_start_loads_none_of_what_only_another_path_needs(vendor: str) -> None:
    loaded = loaded_after_importing(f"{vendor}.app", vendor)
    assert "custsync.runtime" in loaded
    assert {name: why for name, why in NOT_AT_COLD_START.items() if name in loaded} == {}


def test_the_webhooks_cold_start_builds_no_sources_payload_models_until_that_source_is_called() -> None:
    code = (
        "import json, pydantic, webhook.app, custsync.sources as s; "
        "built = [m.__name__ for n in ('shopify', 'hubspot', 'stripe', 'woocommerce', 'standardwebhooks') "
        "for m in vars(getattr(s, n)).values() if isinstance(m, type) and issubclass(m, pydantic.BaseModel) "
        "and m.__module__ == f'custsync.sources.{n}' and m.__pydantic_complete__]; "
        "print(json.dumps(built))"
    )
    env = {
        **os.environ,
        "WEBHOOK_SECRET_NAME": "w",
        "VENDOR_QUEUES": '{"exsalerate": "q"}',
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "layers/shared")),
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
