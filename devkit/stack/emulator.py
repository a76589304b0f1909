"""Runs a function under the Lambda Runtime Interface Emulator shipped in aws-sam-cli.

The emulator (``samcli/local/rapid/aws-lambda-rie-*``) serves the Lambda
runtime API and the invoke API; ``awslambdaric`` is the same runtime client the
Lambda Python images run. Both are started as plain processes: no Docker. The
function runs from the built artifact (``devkit/stack/artifact.py``) in an
isolated interpreter, so it can import only what it could import in Lambda.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from devkit.stack.artifact import BuiltArtifact
from devkit.stack.template import FunctionSpec

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rie_binary() -> Path:
    """The emulator binary for this machine, made executable (wheels may drop the mode bit)."""
    spec = importlib.util.find_spec("samcli")
    if spec is None or spec.origin is None:
        raise RuntimeError("aws-sam-cli is not installed: it ships the Lambda Runtime Interface Emulator")
    arch = "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"
    binary = Path(spec.origin).parent / "local" / "rapid" / f"aws-lambda-rie-{arch}"
    if os.access(binary, os.X_OK):
        return binary
    copy = Path(tempfile.gettempdir()) / f"customer-sync-{binary.name}"
    shutil.copy2(binary, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return copy


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return children


def invocation_error(error_type: str, message: str) -> dict[str, str]:
    return {"errorType": error_type, "errorMessage": message}


def payload_of(response: httpx.Response) -> Any:
    """The emulator's answer as Lambda's Invoke API would give it.

    It answers a timeout with the plain text "Task timed out after N seconds" and a runtime that
    exited with a 502 carrying ``Runtime.ExitError``; neither is the function's JSON.
    """
    text = response.text.strip()
    if text.startswith("Task timed out"):
        return invocation_error("Sandbox.Timedout", text)
    try:
        return response.json()
    except ValueError:
        kind = "Runtime.NoResponse" if not text else "Runtime.InvalidResponse"
        return invocation_error(kind, f"HTTP {response.status_code}: {text[:200] or 'empty reply'}")


class Emulator:
    """One function, warm between invocations, until ``stop``."""

    def __init__(
        self, function: FunctionSpec, environment: dict[str, str], artifact: BuiltArtifact, log_path: Path
    ) -> None:
        self.function = function
        self.environment = environment
        self.artifact = artifact
        self.log_path = log_path
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._http = httpx.Client()  # one client: building one per invoke costs ~40 ms (its SSL context)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{INVOKE_PATH}"

    def start(self) -> Emulator:
        logical_id = self.function.logical_id
        self.artifact.check(logical_id)
        task_root = self.artifact.task_root(logical_id)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", tempfile.gettempdir()),
            "LAMBDA_SYS_PATH": self.artifact.sys_path(logical_id),
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": self.function.logical_id,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.function.timeout),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            **self.environment,
        }
        command = [
            str(rie_binary()),
            "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
            "--runtime-api-address", f"127.0.0.1:{free_port()}",
            *self.artifact.python("run", self.function.handler),
        ]  # fmt: skip
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(command, cwd=task_root, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_listening()
        return self

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        """The function's response, or, when the invocation failed as a whole, Lambda's error payload
        (``errorType`` / ``errorMessage``): a timeout, a crashed runtime, or an emulator that is gone."""
        try:
            response = self._http.post(self.url, json=event, timeout=timeout or self.function.timeout + 30)
        except httpx.HTTPError as exc:
            return invocation_error("Emulator.Unreachable", f"the emulator did not answer: {type(exc).__name__}")
        return payload_of(response)

    def runtime_peak_rss_mib(self) -> float | None:
        """The runtime process's peak resident memory (Linux ``VmHWM``): what Lambda reports as Max Memory Used."""
        if self._process is None:
            return None
        for child in _children(self._process.pid):
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None

    def kill_runtime(self) -> int:
        """``kill -9`` the function's runtime process (the emulator's child), as a crash would; how many died.
        The emulator answers the invocation in flight as failed and starts a new runtime for the next."""
        if self._process is None:
            return 0
        killed = 0
        for child in _children(self._process.pid):
            try:
                os.kill(child, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                continue
        return killed

    def stop(self) -> None:
        if self._process is not None:
            self.kill_runtime()  # never left running on its own, whatever becomes of the emulator
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self._http.close()

    def _wait_until_listening(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"the emulator exited early; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the emulator did not listen within {timeout}s; see {self.log_path}")

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
