"""``custsync local up`` running for a module's tests, and its ``--local`` commands run as an operator runs them:

local = pytest.fixture(scope="module")(running_local_stack)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.stack.local import load_secrets, on_free_ports

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 300
COMMAND_SECONDS = 3600


class Local:
    """A running ``custsync local up`` and the environment its ``--local`` commands need."""

    def __init__(self, state: Path) -> None:
        self.state = state
        # A wide terminal for rich's tables, so a row is one line to read.
        self.env = {**os.environ, "CUSTSYNC_LOCAL_STATE": str(state), "COLUMNS": "200"}

    def run(self, *args: str, expect: int = 0) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "devkit.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        assert result.returncode == expect, result.stdout[-2000:] + result.stderr[-3000:]
        return result.stdout

    def status(self) -> dict[str, dict[str, Any]]:
        rows = [json.loads(line) for line in self.run("status", "--local", "--json").splitlines()]
        return {row["vendor"]: row for row in rows}


def running_local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    """``custsync local up`` in a process of its own, every simulator on a free port, until the module ends."""
    folder = tmp_path_factory.mktemp("local-stack")
    secrets = folder / "secrets.json"
    secrets.write_text(json.dumps(on_free_ports(load_secrets(ROOT / "local" / "secrets.json"))))
    state = folder / "stack.json"
    command = [sys.executable, "-m", "devkit.cli", "local", "up", "--secrets", str(secrets), "--state", str(state)]
    with (folder / "up.log").open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_SECONDS
            while not state.exists() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert state.exists(), (folder / "up.log").read_text()
            yield Local(state)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    assert not state.exists(), "local up removes its record when it stops"
