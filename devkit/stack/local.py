"""The whole system on one machine: moto, the vendor simulators and the functions under the emulator."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import httpx
from moto.server import ThreadedMotoServer

from devkit.inputs import read_json_object
from devkit.simulators import from_secret
from devkit.simulators.base import Simulator, SimulatorServer
from devkit.stack.artifact import BuiltArtifact
from devkit.stack.aws import create_resources
from devkit.stack.emulator import Emulator, free_port
from devkit.stack.identity import Credentials, LocalIam, enforce
from devkit.stack.moto_sqs import patch as patch_moto_sqs
from devkit.stack.pump import Delivery, deliver
from devkit.stack.session import LocalSession
from devkit.stack.template import REGION, Template
from devkit.stack.workers import Worker

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

STAGE = "local"
LOOPBACK = ("127.0.0.1", "localhost")
# What a function sees locally on top of its template environment (and credentials: the stack's, or its role's).
LOCAL_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "false",
    "BACKOFF_BASE_SECONDS": "0",
}


def load_secrets(path: Path) -> dict[str, Any]:
    return read_json_object(path, "mapping secret names to their values")


def on_free_ports(secrets: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``secrets`` with every loopback URL's port set to 0 (any free port), paths kept."""
    moved: dict[str, Any] = json.loads(json.dumps(secrets))
    for value in moved.values():
        if not isinstance(value, dict):
            continue
        for key, url in value.items():
            if isinstance(url, str) and urlsplit(url).hostname in LOOPBACK:
                parts = urlsplit(url)
                value[key] = parts._replace(netloc=f"{parts.hostname}:0").geturl()
    return moved


def load_seed(root: Path) -> dict[str, Any]:
    """Records the simulators start with (``local/simulator-seed.json``: vendor -> record key -> record)."""
    path = root / "local" / "simulator-seed.json"
    return read_json_object(path, "mapping vendors to their records") if path.exists() else {}


def start_moto() -> ThreadedMotoServer:
    patch_moto_sqs()  # deep FIFO queues (bulk loads) without moto's quadratic send
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    return server


@contextmanager
def moto_process() -> Iterator[str]:
    """moto in a process of its own (its endpoint URL): measures of the functions then do not share a
    Python interpreter, and its lock, with the AWS they call."""
    port = free_port()
    command = [sys.executable, "-m", "devkit.stack.moto_sqs", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class LocalStack:
    """Brings everything up in ``__enter__`` and down in ``__exit__``."""

    def __init__(
        self,
        root: Path,
        secrets: dict[str, Any],
        log_dir: Path | None = None,
        seed: dict[str, Any] | None = None,
        moto_endpoint: str | None = None,
        session: LocalSession | None = None,
    ) -> None:
        """``moto_endpoint``: a moto server already running (reset here, left running); else one is started.
        ``session``: a stack ``custsync local up`` runs, used as it is (nothing is started but the functions)."""
        self.root = root
        self.session = session
        self.moto_endpoint = session.endpoint_url if session else moto_endpoint
        self.seed = seed or {}
        self.secrets = json.loads(json.dumps(session.secrets if session else secrets))  # a copy: ports may be filled in
        self.template = Template(root / "template.yaml", {"Stage": STAGE})
        self.stack_name = f"customer-sync-{STAGE}"
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="custsync-logs-"))
        self.physical: dict[str, dict[str, str]] = dict(session.physical) if session else {}
        self.simulators: dict[str, Simulator] = {}
        self.simulator_urls: dict[str, str] = {}
        self._servers: list[SimulatorServer] = []
        self._emulators: dict[str, Emulator] = {}
        self._replicas: list[Emulator] = []
        self._moto: ThreadedMotoServer | None = None
        self._saved_env: dict[str, str | None] = {}
        self.iam: LocalIam | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        if self.session is not None:
            self.endpoint_url = self.session.endpoint_url
            self.iam = LocalIam.restore(self.endpoint_url, self.template, self.stack_name, self.session.credentials)
            self._use_moto(self.administrator)
            return self
        try:
            self._start_moto()
            self._start_simulators()
            self.physical = create_resources(self.template, self.stack_name, self.secrets)
            self._identities.grant(self.physical)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for emulator in [*self._emulators.values(), *self._replicas]:
            emulator.stop()
        self._emulators.clear()
        self._replicas.clear()
        for server in self._servers:
            server.stop()
        self._servers.clear()
        if self.iam is not None and self.session is None:  # a stack of `local up` goes on enforcing
            with contextlib.suppress(httpx.HTTPError):
                enforce(self.endpoint_url, False)  # a setting of moto's process, which outlives the stack
        self.iam = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        boto3.DEFAULT_SESSION = None  # it keeps the credentials it first read

    def _start_moto(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call otherwise
        if self.moto_endpoint is None:
            self._moto = start_moto()
            self.endpoint_url = self._moto_url(self._moto)
        else:
            self.endpoint_url = self.moto_endpoint
        # moto keeps its state per process, not per server: a new stack starts empty. The administrator (this
        # process, which sets the stack up) and the functions' roles are made before moto enforces IAM.
        enforce(self.endpoint_url, False)
        httpx.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        self.iam = LocalIam(self.endpoint_url, self.template, self.stack_name)
        administrator = self.iam.bootstrap()
        enforce(self.endpoint_url, True)
        self._use_moto(administrator)

    def _use_moto(self, administrator: Credentials) -> None:
        """This process's AWS is moto at ``self.endpoint_url``, as the administrator, until ``close``."""
        environment = {**LOCAL_ENVIRONMENT, **administrator.environment(), "AWS_ENDPOINT_URL": self.endpoint_url}
        for name in [*environment, "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ.pop(name, None)
        os.environ.update(environment)
        boto3.DEFAULT_SESSION = None  # clients made from now on read the administrator's credentials

    @property
    def _identities(self) -> LocalIam:
        if self.iam is None:
            raise RuntimeError("the local stack is not up")
        return self.iam

    @property
    def administrator(self) -> Credentials:
        """What this process sets the stack up and looks at it with: allowed everything."""
        credentials = self._identities.administrator
        if credentials is None:
            raise RuntimeError("the local stack is not up")
        return credentials

    def credentials(self, logical_id: str) -> Credentials:
        """The function's own role's credentials, as Lambda gives them to it."""
        return self._identities.functions[logical_id]

    def session_file(self, state_file: Path, api_url: str) -> LocalSession:
        """What another process needs to use this stack while it runs (``custsync local up``)."""
        return LocalSession(
            endpoint_url=self.endpoint_url,
            api_url=api_url,
            stage=STAGE,
            pid=os.getpid(),
            secrets=self.secrets,
            physical=self.physical,
            credentials=self._identities.record(),
            log_dir=str(self.log_dir),
            state_file=str(state_file),
        )

    @staticmethod
    def _moto_url(server: ThreadedMotoServer) -> str:
        host, port = server.get_host_and_port()
        return f"http://{host}:{port}"

    def _start_simulators(self) -> None:
        """Each vendor secret whose base_url is on loopback gets its simulator on that port.

        Port 0 means "any free port": the secret's base_url is rewritten to the port taken.
        """
        for name, secret in self.secrets.items():
            if not isinstance(secret, dict) or "base_url" not in secret:
                continue
            url = urlsplit(str(secret["base_url"]))
            if url.hostname not in LOOPBACK:
                continue
            vendor = name.rsplit("/", 1)[-1]
            simulator = from_secret(vendor, secret)
            port = 80 if url.port is None else url.port
            server = SimulatorServer(simulator, "127.0.0.1", port).start()
            self._servers.append(server)
            self.simulators[vendor] = simulator
            self.simulator_urls[vendor] = server.url
            simulator.records.update(self.seed.get(vendor, {}))
            if port == 0:
                # Every URL of this secret on the same host (base_url, an XML-RPC URL...) moves with it.
                origin = f"{url.scheme}://{url.netloc}"
                for key, value in secret.items():
                    if isinstance(value, str) and value.startswith(origin):
                        secret[key] = server.url + value[len(origin) :]

    # -- functions -------------------------------------------------------------------------------
    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The function's environment with the stack's credentials: for its code run in this process."""
        spec = self.template.function(logical_id)
        resolver = self.template.resolver(self.physical, self.stack_name)
        resolved = resolver.resolve(spec.environment)
        return {
            **{k: str(v) for k, v in resolved.items()},
            **LOCAL_ENVIRONMENT,
            **self.administrator.environment(),
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def emulated_environment(self, logical_id: str) -> dict[str, str]:
        """The function's environment under the emulator: with its own role's credentials, and nothing more."""
        return {**self.function_environment(logical_id), **self.credentials(logical_id).environment()}

    def emulator(self, logical_id: str) -> Emulator:
        """The function running under the emulator, started on first use and kept warm."""
        if logical_id not in self._emulators:
            emulator = Emulator(
                self.template.function(logical_id),
                self.emulated_environment(logical_id),
                artifact=BuiltArtifact(self.root),
                log_path=self.log_dir / f"{logical_id}.log",
            )
            self._emulators[logical_id] = emulator.start()
        return self._emulators[logical_id]

    def replicas(
        self,
        logical_id: str,
        count: int,
        *,
        environment: dict[str, str] | None = None,
        timeout: int | None = None,
        log_prefix: str | None = None,
    ) -> list[Emulator]:
        """``count`` containers of one function, each its own emulator and runtime (as Lambda's event source runs
        many at once), with ``environment`` over the function's own and ``timeout`` for its; stopped with the stack.
        Each logs to ``<log_prefix>-<n>.log`` (the logical id by default)."""
        spec = self.template.function(logical_id)
        if timeout is not None:
            spec = replace(spec, timeout=timeout)
        settings = {**self.emulated_environment(logical_id), **(environment or {})}
        artifact = BuiltArtifact(self.root)
        started = []
        for n in range(count):
            log = self.log_dir / f"{log_prefix or logical_id}-{n}.log"
            emulator = Emulator(spec, settings, artifact, log)
            self._replicas.append(emulator)
            started.append(emulator.start())
        return started

    def workers(self, logical_id: str, emulators: list[Emulator]) -> list[Worker]:
        """One consumer of the function's queue for each of ``emulators`` (``devkit.stack.workers.running``)."""
        url, arn = self.queue_of(logical_id)
        vendor = self.function_environment(logical_id).get("VENDOR", logical_id)
        sqs = self.sqs_as(logical_id)  # polling as Lambda's event source mapping does: with the function's role
        return [Worker(vendor, e, sqs, url, arn, invoke_timeout=e.function.timeout + 10) for e in emulators]

    def restart(self, logical_id: str) -> None:
        """Stop the function's container; the next invoke cold-starts a new one."""
        emulator = self._emulators.pop(logical_id, None)
        if emulator is not None:
            emulator.stop()

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        return self.emulator(logical_id).invoke(event)

    # -- queues ------------------------------------------------------------------------------------
    @property
    def sqs(self) -> SQSClient:
        return self.sqs_as(None)

    def sqs_as(self, logical_id: str | None) -> SQSClient:
        """SQS as the function ``logical_id``'s role (None: the administrator)."""
        client: SQSClient = self.client("sqs", logical_id)
        return client

    def client(self, service: str, logical_id: str | None = None) -> Any:
        """A boto3 client of the stack's moto, as the function ``logical_id``'s role (None: the administrator)."""
        credentials = self.administrator if logical_id is None else self.credentials(logical_id)
        return boto3.client(  # type: ignore[call-overload]  # the service is the caller's
            service, region_name=REGION, endpoint_url=self.endpoint_url, **credentials.client_arguments()
        )

    def vendor_functions(self) -> dict[str, str]:
        """vendor name -> function logical id, for every function with an SQS event."""
        return self.template.vendor_functions()

    def queue_of(self, logical_id: str) -> tuple[str, str]:
        """(url, arn) of the SQS queue feeding ``logical_id``."""
        events = self.template.resources[logical_id]["Properties"].get("Events", {})
        for event in events.values():
            if event["Type"] == "SQS":
                queue_logical = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                queue = self.physical[queue_logical]
                return queue["QueueUrl"], queue["Arn"]
        raise KeyError(f"{logical_id} has no SQS event")

    def dlq_of(self, logical_id: str) -> str:
        return self.function_environment(logical_id)["DLQ_URL"]

    def pump(self, logical_id: str) -> Delivery:
        """Deliver the function's queue to it as Lambda's event source mapping does: with the function's role."""
        url, arn = self.queue_of(logical_id)
        return deliver(self.sqs_as(logical_id), url, arn, lambda event: self.invoke(logical_id, event))

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("*.log")))
