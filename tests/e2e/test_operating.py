"""The operator's day on the local stack, as an operator runs it: ``custsync local up`` in one process, the commands
in others (``--local``), the functions under the emulator from the built artifact."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devkit.bulk_sample import write_csv
from devkit.stack.local import load_secrets
from e2e.local_up import Local, running_local_stack
from flow import ALL_VENDORS

ROOT = Path(__file__).resolve().parents[2]
local = pytest.fixture(scope="module")(running_local_stack)
# Minutes under load: the stack, a drain through every vendor function, a preview cold-starting each again.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]
# Everlytic updates only customers it has (local/simulator-seed.json: 9001-9007): rows 0-6 carry one of them.
EVERLYTIC_IDS = {number: 9001 + number for number in range(7)}
ROWS = 10


def test_status_shows_the_depths_after_an_enqueue_and_after_a_drain(local: Local, tmp_path: Path) -> None:
    customers = write_csv(tmp_path / "customers.csv", ROWS, EVERLYTIC_IDS)
    out = local.run("enqueue", str(customers), "--local")
    assert f"{ROWS * len(ALL_VENDORS)} message(s) queued; 0 already queued" in out
    before = local.status()
    assert {vendor: (row["waiting"], row["inFlight"], row["dlq"]) for vendor, row in before.items()} == dict.fromkeys(
        ALL_VENDORS, (ROWS, 0, 0)
    )

    drained = local.run("local", "drain")
    for vendor in ALL_VENDORS:
        assert f"{vendor}: delivered {ROWS} message(s)" in drained

    after = local.status()
    assert {vendor: (row["waiting"], row["inFlight"]) for vendor, row in after.items()} == dict.fromkeys(
        ALL_VENDORS, (0, 0)
    )
    without_id = ROWS - len(EVERLYTIC_IDS)
    assert {vendor: row["dlq"] for vendor, row in after.items()} == {
        vendor: without_id if vendor == "everlytic" else 0 for vendor in ALL_VENDORS
    }
    assert after["everlytic"]["parkedLastHour"] == {"vendor_ids.everlytic": without_id}
    assert all(row["lastApplied"] for row in after.values()), "every vendor applied rows (its EMF metrics)"
    table = local.run("status", "--local")
    assert "parked last hour" in table
    assert re.search(r"everlytic\s+│\s+0\s+│\s+0\s+│\s+-\s+│\s+3\s+│", table), table

    again = local.run("enqueue", str(customers), "--local")
    assert f"0 message(s) queued; {ROWS * len(ALL_VENDORS)} already queued" in again
    assert {row["waiting"] for row in local.status().values()} == {0}


def test_preview_prints_each_vendors_request_as_it_would_be_sent(local: Local) -> None:
    out = local.run("preview", "--local", "--event", "events/webhook/01-shopify-customers-update.json")
    expected = {
        "exsalerate": r"PUT http://127\.0\.0\.1:\d+/api/Customer\n",
        "exigo": r"PATCH http://127\.0\.0\.1:\d+/3\.0/customers\n",
        "centra": (
            r"POST http://127\.0\.0\.1:\d+/ams/system/service/module/soap/api\n(.+\n)+\n"
            r"<\?xml .+\n<soap-env:Envelope .+customers_Update"
        ),
        "expandable": r"POST http://127\.0\.0\.1:\d+/api/customer-contact-update\n",
        "everlytic": r"PUT http://127\.0\.0\.1:\d+/api/2\.0/customers/9001\n",
    }
    sections = {section.split(":", 1)[0]: section for section in out.split("== ")[1:]}
    assert set(sections) == set(ALL_VENDORS)
    for vendor, request in expected.items():
        assert re.search(request, sections[vendor]), sections[vendor]
    for vendor in ("exsalerate", "exigo", "everlytic"):  # HTTP Basic; Centra and Expandable log in in the body
        assert "authorization: Basic *****\n" in sections[vendor]
    assert "<ns0:password>*****</ns0:password>" in sections["centra"]
    assert '"AUTH_TOKEN":"*****"' in sections["expandable"]
    for secret in load_secrets(ROOT / "local" / "secrets.json").values():
        for key in ("password", "api_key"):
            if key in secret:
                assert str(secret[key]) not in out


@pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it; or apt-get install tmux)"
)
def test_the_progress_bar_moves_on_a_long_file(local: Local, tmp_path: Path) -> None:
    """In a terminal (tmux), the sending bar's count rises, with its rate and time left, while the file is sent."""
    customers = write_csv(tmp_path / "long.csv", 3000, start=100_000)
    session = f"custsync-progress-{os.getpid()}"
    command = (
        f"cd {ROOT} && CUSTSYNC_LOCAL_STATE={local.state} {sys.executable} -m devkit.cli enqueue {customers} "
        f"--local --vendor exsalerate --journal {tmp_path / 'journal'}; sleep 600"
    )
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "20", command], check=True)
    seen: list[int] = []
    screens = []
    try:
        for _ in range(2400):
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=True
            ).stdout
            found = re.search(r"sending .*?(\d+)/3000 +([\d,]+ rows/s|-) .*ETA", screen)
            if found and (not seen or int(found[1]) > seen[-1]):
                seen.append(int(found[1]))
                screens.append(screen)
            if len(seen) >= 3 and seen[-1] > 0 and "rows/s" in screens[-1]:
                break
            time.sleep(0.25)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert len(seen) >= 3, screens
    assert seen == sorted(seen)
    assert re.search(r"validating .*MB/s|validating .*MB", screens[-1]), screens[-1]
    assert re.search(r"[\d,]+ rows/s .*ETA \d+:\d\d:\d\d", screens[-1]), screens[-1]
