"""``make vendor``: a sixth vendor scaffolded into a copy of the repository passes the suite's vendor-wide checks
there as it is, its connector and its simulator working together over the protocol it speaks.

Each protocol's run copies the tracked files, scaffolds ``acme`` (or, where a vendor by that name is already
there, as after ``make vendor NAME=acme``, the first free of ``acme2``, ``acme3``...), writes the template and the
OpenAPI document as ``make vendor`` does, then runs in the copy: ruff on what was written, the new vendor's own
three test modules, and the unit tests that go over every vendor; the REST run also the integration tests that go
over every vendor, for the new one.
About a minute a protocol on an idle 2-core machine, three more for the REST run's integration tests (marked
``scaffold``: in ``make test``; ``-m 'not scaffold'`` leaves them out while iterating).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from devkit.vendors import vendor_names

pytestmark = [pytest.mark.scaffold, pytest.mark.timeout(1200)]

VENDOR_WIDE_UNIT = [
    "tests/unit/test_template.py",
    "tests/unit/test_openapi.py",
    "tests/unit/test_secret_schema.py",
    "tests/unit/test_security_template.py",
    "tests/unit/test_monitoring.py",
    "tests/unit/test_routes_check.py",
]
VENDOR_WIDE_INTEGRATION = [
    "tests/integration/test_hostile_vendors.py",
    "tests/integration/test_deletion_erasure.py",
    "tests/integration/test_dry_run_wire.py",
    "tests/integration/test_unhandled_and_guests.py",
    "tests/integration/test_not_configured.py",
    "tests/integration/test_sync_api.py",
]


def free_name() -> str:
    taken = set(vendor_names(ROOT))
    return next(name for name in ["acme", *(f"acme{n}" for n in range(2, 100))] if name not in taken)


NAME = free_name()
OWN = [f"tests/unit/test_{NAME}_mapping.py", f"tests/integration/test_{NAME}_flow.py"]


def copy_of_the_repository(target: Path) -> Path:
    tracked = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
    return target


def run(copy: Path, *command: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run(command, cwd=copy, env=environment, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("protocol", ["rest", "soap", "xmlrpc"])
def test_a_scaffolded_vendor_passes_the_vendor_wide_checks_untouched(tmp_path: Path, protocol: str) -> None:
    copy = copy_of_the_repository(tmp_path)
    python = sys.executable
    for step in (
        ["-m", "devkit.scaffold", NAME, "--protocol", protocol],
        ["-m", "devkit.vendors"],
        ["-m", "devkit.openapi"],
    ):
        done = run(copy, python, *step)
        assert done.returncode == 0, done.stderr[-3000:]
    assert (copy / "functions" / NAME / "connector.py").is_file()

    written = [f"functions/{NAME}", f"devkit/simulators/{NAME}.py", *OWN, "tests/integration/simulators"]
    ruff = run(copy, str(Path(python).with_name("ruff")), "check", *written)
    assert ruff.returncode == 0, ruff.stdout[-3000:]

    # The unit and the integration tests each in a process of their own, as the suite's workers run them.
    runs = [[*OWN, f"tests/integration/simulators/test_{NAME}_simulator.py", *VENDOR_WIDE_UNIT]]
    if protocol == "rest":
        runs.append([*VENDOR_WIDE_INTEGRATION, "-k", NAME])
    for tests in runs:
        suite = run(copy, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests)
        assert suite.returncode == 0, suite.stdout[-5000:]
        assert " passed" in suite.stdout and "failed" not in suite.stdout
