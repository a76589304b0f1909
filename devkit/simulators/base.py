"""What every vendor simulator shares: a real threaded HTTP server, a call log,
inspectable state, and fault injection.

A simulator subclasses ``Simulator``, declares its routes and implements
``error_response`` in its vendor's own error shape. Tests drive it in-process
(``sim.faults.add(...)``, ``sim.records``); anyone else drives it over HTTP:

- ``GET  /_sim/state``  the vendor-side records
- ``GET  /_sim/calls``  every call received (method, path, headers, body)
- ``POST /_sim/faults`` queue a fault, body as ``Fault``'s fields
- ``POST /_sim/reset``  clear records, calls, faults and the rate limit
- ``GET|POST /_sim/rate-limit`` the requests counted per second; ``{"per_second": N}`` sets a limit

A rate limit (``limit_rate``) answers every request above ``per_second`` in a second with 429 and
``Retry-After``, in the vendor's own error shape, as a vendor counting requests per second does; the
simulator counts what arrived and what it refused in each second, and the most requests in flight at once.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import threading
import time
from collections import Counter
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
    at: float = 0.0  # when it arrived (the simulator's clock)

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


@dataclass
class RateLimit:
    """At most ``per_second`` requests in each second of ``clock`` (whole seconds, as a vendor counting requests
    per second does); ``arrived`` and ``refused`` count each second's requests."""

    per_second: int
    clock: Callable[[], float] = time.time
    arrived: Counter[int] = field(default_factory=Counter)
    refused: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self) -> float | None:
        """None when the request is within the limit, else the seconds until the next second starts."""
        now = self.clock()
        second = math.floor(now)
        with self._lock:
            self.arrived[second] += 1
            if self.arrived[second] <= self.per_second:
                return None
            self.refused[second] += 1
        return second + 1 - now

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"per_second": self.per_second, "arrived": dict(self.arrived), "refused": dict(self.refused)}


Handler = Callable[..., Response]


class Simulator:
    """Base of the vendor simulators: routing, call log, faults, control endpoints."""

    name: ClassVar[str]
    #: The vendor's own values for an active and an inactive customer, as its docs name them and its records hold
    #: them (``{"active": "on", "inactive": "off"}``): what the vendor-wide deletion tests look for.
    status_values: ClassVar[dict[str, Any]]

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[RecordedCall] = []
        self.faults = FaultQueue()
        self.lock = threading.RLock()
        self.rate_limit: RateLimit | None = None
        self.in_flight = 0
        self.peak_in_flight = 0
        self._map = Map(
            [
                Rule("/_sim/state", endpoint="_sim_state", methods=["GET"]),
                Rule("/_sim/calls", endpoint="_sim_calls", methods=["GET"]),
                Rule("/_sim/faults", endpoint="_sim_faults", methods=["POST"]),
                Rule("/_sim/reset", endpoint="_sim_reset", methods=["POST"]),
                Rule("/_sim/rate-limit", endpoint="_sim_rate_limit", methods=["GET", "POST"]),
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
            self.rate_limit = None
            self.peak_in_flight = 0

    def limit_rate(self, per_second: int, clock: Callable[[], float] = time.time) -> RateLimit:
        """From now on, answer 429 to every request over ``per_second`` in a second (counts start afresh)."""
        self.rate_limit = RateLimit(per_second, clock)
        return self.rate_limit

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
            at=time.time(),
        )
        with self.lock:
            self.calls.append(call)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            response = self._rate_limited(request) or self._with_faults(request)
        finally:
            with self.lock:
                self.in_flight -= 1
        call.status = response.status_code
        return response

    def _rate_limited(self, request: Request) -> Response | None:
        limit = self.rate_limit
        wait = limit.admit() if limit is not None else None
        if wait is None:
            return None
        refusal = Fault("status", status=429, message="Too many requests", retry_after=max(1, math.ceil(wait)))
        return self.fault_response(refusal, request)

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
        if endpoint == "_sim_rate_limit":
            if request.method == "POST":
                self.limit_rate(int(json.loads(request.get_data() or b"{}")["per_second"]))
            return _json(self.rate_limit.as_dict() if self.rate_limit else {"per_second": None})
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
