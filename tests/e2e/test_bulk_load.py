"""The Done-when bulk load, on the local stack: a generated 100,000-row CSV is queued once for every vendor, and the
same file again queues nothing. Minutes long (half a million SendMessageBatch entries through moto), so it is
left out of `make test` (``bulk`` marker) and run by `make test-bulk`; `CUSTSYNC_BULK_ROWS` changes its size.
tests/e2e/test_operating.py and tests/integration/test_operator_commands.py load small files the same way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.bulk_sample import write_csv
from e2e.local_up import Local, running_local_stack
from flow import ALL_VENDORS

ROWS = int(os.environ.get("CUSTSYNC_BULK_ROWS", "100000"))
local = pytest.fixture(scope="module")(running_local_stack)
pytestmark = [pytest.mark.e2e, pytest.mark.bulk, pytest.mark.timeout(4 * 3600)]


def test_a_generated_csv_is_queued_once_for_every_vendor_and_a_second_run_queues_none(
    local: Local, tmp_path: Path
) -> None:
    customers = write_csv(tmp_path / "customers.csv", ROWS)
    messages = ROWS * len(ALL_VENDORS)

    first = local.run("enqueue", str(customers), "--local", "--no-progress")
    # Every row accepted once per vendor: a row sent twice would count twice here, even where FIFO dropped it.
    assert (
        f"{ROWS} row(s), 0 invalid (skipped); 0 repeated in the file; {messages} message(s) queued; 0 already" in first
    )
    assert {vendor: row["waiting"] for vendor, row in local.status().items()} == dict.fromkeys(ALL_VENDORS, ROWS)

    second = local.run("enqueue", str(customers), "--local", "--no-progress")
    assert f"0 message(s) queued; {messages} already queued" in second
    assert {vendor: row["waiting"] for vendor, row in local.status().items()} == dict.fromkeys(ALL_VENDORS, ROWS)
