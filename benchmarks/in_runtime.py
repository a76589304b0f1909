"""Measures taken inside a function's own interpreter: the built artifact's layer and runtime, the runtime's Python,
``-I -S -B`` (``BuiltArtifact.interpreter``), the function's environment, against the bench's moto and simulators.

    python -I -S -B benchmarks/in_runtime.py SPEC.json     (LAMBDA_SYS_PATH set as for the bootstrap)

SPEC: ``{"mode": ..., "out": path, ...}``; the result is written to ``out`` as JSON (the handler's logs go to
stdout). Modes:

- ``imports``: ``steps`` (Python statements) run in order, then ``handler`` invoked with ``event`` when given:
  each one's wall time (ms);
- ``records``: ``handler`` invoked with ``events`` (the first warms it up, unmeasured); for each later one, the
  process's CPU time and the CPU time spent inside AWS calls (botocore) and vendor calls (httpx, and the
  project's ``BoundedHttp`` around it);
- ``restore``: the handler's module imported (init), the SnapStart hooks run as Lambda runs them around a
  snapshot, then ``events`` invoked: the after-restore hooks' time and each invocation's (wall, ms).

Standard library only until ``sys.path`` is set (as ``devkit/stack/lambda_bootstrap.py``).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


class Context:
    """Lambda's context for an invocation made here."""

    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def set_path() -> None:
    task_root, layer, runtime = os.environ["LAMBDA_SYS_PATH"].split(os.pathsep)
    sys.path[:] = [task_root, layer, *sys.path, runtime]


def handler_of(spec: dict[str, Any]) -> Callable[[dict[str, Any], Any], Any]:
    module, _, name = spec["handler"].rpartition(".")
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module), name)
    return handler


def imports(spec: dict[str, Any]) -> dict[str, Any]:
    times = []
    for step in spec["steps"]:
        started = time.perf_counter()
        exec(step, {})  # the bench's own statements
        times.append((time.perf_counter() - started) * 1000)
    if "event" in spec:  # then the handler's first invocation, as a cold start's
        handler = handler_of(spec)
        started = time.perf_counter()
        handler(spec["event"], Context())
        times.append((time.perf_counter() - started) * 1000)
    return {"ms": times}


class CallClock:
    """CPU time spent inside AWS and vendor calls, by any thread; a call inside another counted once."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._inside = threading.local()

    def wrap(self, owner: type, name: str) -> None:
        original = getattr(owner, name)
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(clock._inside, "call", False):
                return original(*args, **kwargs)
            clock._inside.call = True
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                clock._inside.call = False
                with clock._lock:
                    clock.seconds += spent

        setattr(owner, name, timed)


def records(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx
    from botocore.client import BaseClient

    handler = handler_of(spec)
    first, *events = spec["events"]
    assert handler(first, Context()) == {"batchItemFailures": []}
    clock = CallClock()
    clock.wrap(BaseClient, "_make_api_call")
    clock.wrap(httpx.Client, "send")
    bounded = sys.modules.get("custsync.transport.http")
    if bounded is not None:  # the project's vendor calls: httpx's send, then the body read within its bounds
        clock.wrap(bounded.BoundedHttp, "send")
    measured = []
    for event in events:
        clock.seconds = 0.0
        cpu, wall = time.process_time(), time.perf_counter()
        answer = handler(event, Context())
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert answer == {"batchItemFailures": []}, answer
        measured.append({"records": len(event["Records"]), "cpu": cpu, "calls_cpu": clock.seconds, "wall": wall})
    return {"batches": measured}


def restore(spec: dict[str, Any]) -> dict[str, Any]:
    import snapshot_restore_py

    handler = handler_of(spec)
    for hook, args, kwargs in snapshot_restore_py.get_before_snapshot():
        hook(*args, **kwargs)
    started = time.perf_counter()
    for hook, args, kwargs in snapshot_restore_py.get_after_restore():
        hook(*args, **kwargs)
    hooks = time.perf_counter() - started
    invokes = []
    for event in spec["events"]:
        started = time.perf_counter()
        answer = handler(event, Context())
        invokes.append((time.perf_counter() - started) * 1000)
        assert answer == {"batchItemFailures": []} or answer.get("statusCode") == 202, answer
    return {"hooks_ms": hooks * 1000, "invokes_ms": invokes}


MODES = {"imports": imports, "records": records, "restore": restore}


def main(argv: list[str]) -> int:
    with open(argv[0]) as file:
        spec = json.load(file)
    set_path()
    result = MODES[spec["mode"]](spec)
    with open(spec["out"], "w") as file:
        json.dump(result, file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
