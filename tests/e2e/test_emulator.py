"""The emulator wrapper reports a function's timeout or crash as Lambda's Invoke API would, never a traceback."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.stack.artifact import BuiltArtifact
from devkit.stack.emulator import Emulator
from devkit.stack.template import FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

HANDLER = """
import os, time

def handler(event, context):
    if event.get("exit"):
        os._exit(3)
    time.sleep(event.get("sleep", 0))
    return {"slept": event.get("sleep", 0)}
"""


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A one-second function built beside the real local layer and runtime."""
    built = BuiltArtifact(ROOT)
    built.check("WebhookFunction")  # the real layer and runtime exist
    artifact = built.beside(tmp_path, "SleepyFunction", "sleepy", HANDLER)
    spec = FunctionSpec("SleepyFunction", tmp_path, "sleepy.app.handler", 1, {})
    with Emulator(spec, {}, artifact, tmp_path / "sleepy.log") as running:
        yield running


def test_a_function_that_times_out_is_reported_as_a_timeout_and_the_next_invoke_runs(emulator: Emulator) -> None:
    assert emulator.invoke({"sleep": 3}) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1.00 seconds",
    }
    assert emulator.invoke({"sleep": 0}) == {"slept": 0}


def test_a_runtime_that_exits_is_reported_as_such(emulator: Emulator) -> None:
    response = emulator.invoke({"exit": True})
    assert response["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in response["errorMessage"]
    assert emulator.invoke({}) == {"slept": 0}


def test_a_killed_emulator_is_an_unreachable_function_not_a_traceback(emulator: Emulator) -> None:
    assert emulator._process is not None
    emulator._process.send_signal(signal.SIGKILL)
    emulator._process.wait()
    assert emulator.invoke({})["errorType"] == "Emulator.Unreachable"
