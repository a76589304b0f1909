"""``custsync local up`` (a local stack that keeps running) and ``custsync local drain`` (Lambda's event source
mappings, played on demand: each vendor's queue delivered to its function under the emulator until empty)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from werkzeug.serving import BaseWSGIServer, make_server

from devkit.inputs import InputError
from devkit.openapi import api_routes
from devkit.stack import emf
from devkit.stack.artifact import BuiltArtifact
from devkit.stack.gateway import Gateway, Handler, Route
from devkit.stack.local import STAGE, LocalStack
from devkit.stack.pump import Delivery
from devkit.stack.session import LocalSession
from devkit.stack.template import Template

# Batches one drain delivers at most per vendor: a vendor that keeps failing stops it; its changes stay queued.
MAX_BATCHES = 20_000


def run_up(
    root: Path,
    secrets: dict[str, Any],
    state_file: Path,
    out: TextIO,
    seed: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Start the stack, record it in ``state_file``, and run until ``stop`` is set (SIGINT or SIGTERM)."""
    try:
        running = LocalSession.read(state_file)
    except InputError:
        running = None
    if running is not None:
        raise InputError(f"a local stack is already running (pid {running.pid}, {state_file})")
    stop = stop or _stopped_by_signals()
    directory = state_file.parent
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "journal.sqlite3").unlink(missing_ok=True)  # a new stack's queues are empty: so is its journal
    log_dir = directory / "logs"
    log_dir.mkdir(exist_ok=True)
    with LocalStack(root, secrets, log_dir=log_dir, seed=seed) as stack:
        api_url, api = serve_api(stack)
        session = stack.session_file(state_file, api_url)
        session.write()
        try:
            simulators = ", ".join(f"{name} {url}" for name, url in stack.simulator_urls.items())
            out.write(
                f"local stack up: moto at {stack.endpoint_url}, stage {session.stage}\n"
                f"API (webhooks and the sync API, the functions under the emulator): {api_url}\n"
                f"simulators: {simulators}\n"
                f"state: {state_file}\n"
                "use --local with status, enqueue, preview and dlq; `custsync local drain` delivers the queues to "
                "the functions. Ctrl-C stops it.\n"
            )
            out.flush()
            stop.wait()
        finally:
            session.remove()
            api.shutdown()
    out.write("local stack stopped\n")


def _stopped_by_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def drain(root: Path, session: LocalSession, vendors: Iterable[str], out: TextIO) -> dict[str, Delivery]:
    """Deliver each vendor's queue (every vendor's when ``vendors`` is empty) to its function until nothing is
    visible, then put the functions' metrics into the local CloudWatch, as AWS does from their logs."""
    wanted = set(vendors)
    deliveries: dict[str, Delivery] = {}
    with LocalStack(root, {}, log_dir=Path(session.log_dir), session=session) as stack:
        functions = stack.vendor_functions()
        unknown = wanted - set(functions)
        if unknown:
            raise InputError(f"vendor: {', '.join(sorted(unknown))} is not a vendor ({', '.join(functions)})")
        chosen = {vendor: function for vendor, function in functions.items() if not wanted or vendor in wanted}
        for function in chosen.values():
            BuiltArtifact(root).check(function)  # before a message is taken, not with it in hand
        cloudwatch = stack.client("cloudwatch")
        for vendor, function in chosen.items():
            log = stack.log_dir / f"{function}.log"
            offset = log.stat().st_size if log.exists() else 0
            total = Delivery()
            while total.batches < MAX_BATCHES:
                delivery = stack.pump(function)
                total.delivered += delivery.delivered
                total.failed += delivery.failed
                total.batches += delivery.batches
                if delivery.delivered == 0:
                    break
            emf.publish(log, offset, cloudwatch)
            deliveries[vendor] = total
            failed = f"{total.failed} failed back to the queue"
            out.write(f"{vendor}: delivered {total.delivered} message(s) in {total.batches} batch(es), {failed}\n")
    return deliveries


def serve_api(stack: LocalStack) -> tuple[str, BaseWSGIServer]:
    """The template's API (webhooks and the sync API) in front of the functions under the emulator, on loopback:
    what API Gateway is to the deployed functions. Returns its base URL and the running server."""
    template = Template(stack.root / "template.yaml")

    def invoke(function: str) -> Handler:
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            answer = stack.invoke(function, event)
            if not isinstance(answer, dict) or "errorType" in answer:  # the function failed: API Gateway's 502
                return {"statusCode": 502, "body": json.dumps({"message": "Internal server error"})}
            return answer

        return handler

    routes = [Route(method, path, invoke(function)) for (method, path), function in api_routes(template).items()]
    server = make_server("127.0.0.1", 0, Gateway(routes, context=None, stage=STAGE), threaded=False)
    threading.Thread(target=server.serve_forever, name="local-api", daemon=True).start()
    return f"http://127.0.0.1:{server.port}/", server
