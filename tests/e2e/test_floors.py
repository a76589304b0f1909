"""``make bench``'s rows against the hand-written functions, in small: every floor builds beside the artifact, runs
under the emulator against the local stack and does its work, and every row and note gets its figures. Timings
are never asserted here (benchmarks/ measures them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.floors import BY_HAND, FloorBench, by_hand, floor_notes, floor_rows, project, running
from devkit.stack.artifact import BuiltArtifact

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def built() -> None:
    BuiltArtifact(ROOT).check("ExsalerateFunction")


#: What each vendor's floor must have asked of its simulator: (simulator, path part, method).
VENDOR_CALLS = {
    "ExsalerateFunction": ("exsalerate", "/api/Customer", "PUT"),
    "ExigoFunction": ("exigo", "3.0/customers", "PATCH"),
    "CentraFunction": ("centra", "", "POST"),
}


def test_each_hand_written_floor_does_its_functions_work(stack: Any, tmp_path: Path) -> None:
    bench = FloorBench(stack, tmp_path)
    queues = bench.webhook_queues()
    for function in BY_HAND:
        with running(by_hand(stack, tmp_path, function), stack.log_dir) as emulator:
            if function == "WebhookFunction":
                answer = emulator.invoke(bench.shopify_event())
                assert answer["statusCode"] == 202, answer
                assert len(json.loads(answer["body"])["vendors"]) == len(queues)
                depths = [stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]) for url in queues]
                assert all(d["Attributes"]["ApproximateNumberOfMessages"] == "1" for d in depths), depths
                bench.drain(queues)
            else:
                (event,) = bench.batches(function, [f"FLOOR-{function}"], 1)
                assert emulator.invoke(event) == {"batchItemFailures": []}
                simulator, path, method = VENDOR_CALLS[function]
                assert stack.simulators[simulator].calls_to(path, method), f"{function} by hand called its vendor"


# Some 60 process starts even this small (~60 s on an idle machine): more than the suite's default 120 s when busy.
@pytest.mark.timeout(400)
def test_the_floor_rows_and_their_notes_come_out_of_one_small_run(stack: Any, tmp_path: Path) -> None:
    rows, figures = floor_rows(stack, tmp_path, runs=1, fan_out=(1, 2))

    names = [row.name for row in rows]
    for function in BY_HAND:
        assert f"Cold start to the first response, vs by hand: {function}" in names
    assert any(name.startswith("Warm, CPU per record outside") for name in names)
    assert sum("Webhook warm answer" in name for name in names) == 2, "p50 and p99"
    assert sum(name.startswith("Webhook fan-out, warm answer") for name in names) == 2
    assert names[-1] == "Webhook fan-out: what 2 vendor queues add over 1"
    for row in rows:
        assert row.measured.values and row.floor is not None and row.floor.values, row.name
        assert row.goal
    assert all(row.met is not None for row in rows if row.goal.startswith("≤")), "every goal row says met or no"
    assert set(figures.imports) == {label for f in BY_HAND for label in (f, f"{f} by hand")}
    assert all(ms > 0 for steps in figures.imports.values() for ms in steps.values())
    assert "the first invoke" in figures.imports["ExsalerateFunction"]
    assert set(figures.restores) == {
        "ExsalerateFunction", "ExsalerateFunction by hand", "WebhookFunction", "WebhookFunction by hand"
    }  # fmt: skip
    notes = floor_notes(figures)
    assert "## Against a hand-written function" in notes
    assert "SnapStart restore" in notes


def test_the_project_function_and_its_floor_run_from_the_same_layer_and_interpreter(stack: Any, tmp_path: Path) -> None:
    ours, floor = project(stack, "ExsalerateFunction"), by_hand(stack, tmp_path, "ExsalerateFunction")
    assert floor.artifact.interpreter() == ours.artifact.interpreter()
    assert floor.artifact.layer_dir.resolve() == ours.artifact.layer_dir.resolve()
    assert floor.artifact.runtime_dir.resolve() == ours.artifact.runtime_dir.resolve()
    assert floor.environment == ours.environment
