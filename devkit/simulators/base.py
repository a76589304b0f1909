"""What every vendor simulator shares: a real threaded HTTP server, a call log,
inspectable state, and fault injection.

A simulator subclasses ``Simulator``, declares its routes and implements
``error_response`` in its vendor's own error shape. Tests drive it in-process
(``sim.faults.add(...)``, ``sim.records``); anyone else drives it over HTTP:

- ``GET  /_sim/state``  the vendor-side records
- ``GET  /_sim/calls``  every call received (method, path, headers, body)
- ``POST /_sim/faults`` queue a fault, body as ``Fault``'s fields
- ``POST /_sim/reset``  clear records, calls and faults
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FaultKind = Literal["status", "latency", "timeout", "reset", "soap_fault", "expire_tokens"]


@dataclass
class Fault:
    """One injected misbehaviour, used ``count`` times by calls whose path contains ``match``
    (and whose method is ``method``, when given)."""

    kind: FaultKind
    status: int = 503
    message: str = "Injected fault"
    retry_after: int | None = None
    delay: float = 0.0
    count: int = 1
    match: str = ""
    method: str = ""
    code: str = "Server"  # the SOAP faultcode side, for soap_fault


@dataclass
class RecordedCall:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = self.body.decode("utf-8", errors="replace")
        return data


@dataclass
class FaultQueue:
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: FaultKind, **options: Any) -> Fault:
        fault = Fault(kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, path: str, method: str = "") -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match in path and fault.method in ("", method):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(fault.count for fault in self._faults)


Handler = Callable[..., Response]


class Simulator:
    """Base of the vendor simulators: routing, call log, faults, control endpoints."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[RecordedCall] = []
        self.faults = FaultQueue()
        self.lock = threading.RLock()
        self._map = Map(
            [
                Rule("/_sim/state", endpoint="_sim_state", methods=["GET"]),
                Rule("/_sim/calls", endpoint="_sim_calls", methods=["GET"]),
                Rule("/_sim/faults", endpoint="_sim_faults", methods=["POST"]),
                Rule("/_sim/reset", endpoint="_sim_reset", methods=["POST"]),
                *self.rules(),
            ]
        )

    # -- what a vendor simulator provides -------------------------------------------------
    def rules(self) -> list[Rule]:
        """werkzeug rules; each endpoint names a method of the simulator taking (request, **args)."""
        raise NotImplementedError

    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        """An error in the vendor's own shape."""
        raise NotImplementedError

    def fault_response(self, fault: Fault, request: Request) -> Response:
        """How an injected ``status`` or ``soap_fault`` fault looks; vendors may override."""
        response = self.error_response(fault.status, fault.message, request=request)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    def on_expire_tokens(self) -> None:
        """Hook for the ``expire_tokens`` fault (token vendors)."""

    # -- helpers for subclasses -------------------------------------------------------------
    def calls_to(self, path_part: str, method: str | None = None) -> list[RecordedCall]:
        return [c for c in self.calls if path_part in c.path and (method is None or c.method == method)]

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.calls.clear()
            self.faults.clear()

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return self._control(request)
        call = RecordedCall(
            method=request.method,
            path=request.path,
            query=request.query_string.decode(),
            headers=dict(request.headers.items()),
            body=request.get_data(cache=True),
        )
        with self.lock:
            self.calls.append(call)
        response = self._with_faults(request)
        call.status = response.status_code
        return response

    def _with_faults(self, request: Request) -> Response:
        fault = self.faults.take(request.path, request.method)
        if fault is not None:
            if fault.kind in ("latency", "timeout"):
                time.sleep(fault.delay)
            elif fault.kind == "reset":
                _reset_connection(request)
                return Response(status=500)  # never reaches the client
            elif fault.kind == "expire_tokens":
                self.on_expire_tokens()
            else:
                return self.fault_response(fault, request)
        return self._route(request)

    def _route(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed:
            return self.error_response(
                405, f"The requested resource does not support http method '{request.method}'.", request=request
            )
        except NotFound:
            return self.error_response(404, f"No resource at {request.path}", request=request)
        except HTTPException as exc:  # pragma: no cover - other routing errors
            return self.error_response(exc.code or 400, str(exc), request=request)
        handler: Handler = getattr(self, endpoint)
        with self.lock:
            return handler(request, **args)

    def _control(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, _ = adapter.match()
        except HTTPException as exc:
            return exc.get_response()
        if endpoint == "_sim_state":
            with self.lock:
                return _json(self.records)
        if endpoint == "_sim_calls":
            with self.lock:
                return _json([c.as_dict() for c in self.calls])
        if endpoint == "_sim_faults":
            options = json.loads(request.get_data() or b"{}")
            return _json(asdict(self.faults.add(**options)), status=201)
        self.reset()
        return _json({"reset": True})


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status=status, mimetype="application/json")


def _reset_connection(request: Request) -> None:
    """Drop the client's connection without an answer, as a reset or a crashed server looks."""
    sock: socket.socket | None = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Calls are kept in ``Simulator.calls``; nothing goes to stderr."""


class SimulatorServer:
    """Runs a simulator as a real HTTP server on a loopback port, in a daemon thread."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._server: BaseWSGIServer = make_server(
            host, port, simulator, threaded=True, request_handler=_QuietRequestHandler
        )
        # A short poll interval: shutdown() waits up to one interval, and tests start and stop hundreds of servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name=f"sim-{simulator.name}", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> SimulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serve(simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[SimulatorServer]:
    server = SimulatorServer(simulator, host, port).start()
    try:
        yield server
    finally:
        server.stop()
