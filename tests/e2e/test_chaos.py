"""The chaos run, small: partial, out-of-order, redelivered, equal-time and invalid changes to Exsalerate and
Centra through the built functions under the emulator, while the simulators fail, runtimes are killed mid-batch
and DynamoDB refuses requests. ``make chaos`` runs it at full size."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from devkit.chaos import ChaosConfig, run_chaos
from devkit.stack.local import load_secrets, on_free_ports

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_no_field_is_lost_or_stale_and_every_parked_change_is_explained() -> None:
    config = ChaosConfig(changes=160, customers=20, kills=2, outage_seconds=4.0, malformed=2, seed=3)
    out = io.StringIO()
    report = run_chaos(ROOT, on_free_ports(load_secrets(ROOT / "local" / "secrets.json")), config, out)

    assert report.lost == [] and report.stale == [], out.getvalue()
    assert report.duplicate_applications == 0
    assert report.duplicate_records == 0
    assert report.parked_without_reason == 0
    assert report.parked_but_applied == 0
    assert report.parked_valid == 0, "only invalid changes and messages were given up"
    assert any("allows at most" in p["reason"] for p in report.parked), "the invalid changes were parked, naming why"
    assert report.kills >= 1, "runtimes were killed mid-batch"
    assert report.refused_by_dynamodb > 0, "DynamoDB refused requests"
    assert sum(report.faults.values()) > 0
    assert report.line().startswith("chaos: changes=160 customers=20 vendors=exsalerate,centra applied=")
