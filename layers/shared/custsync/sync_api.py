"""The sync API of a vendor function: ``PUT /vendors/{vendor}/customers/{key}``.

A canonical ``Customer`` body is applied synchronously; ``?dryRun=true`` returns the vendor request
without sending it: its calls, and each as it would go on the wire, secrets masked (``custsync/preview.py``);
``?vendorId=`` names the customer's id at the vendor when the state table does not know it yet. Imported on
the first API event only: Powertools' event handler is a cold-start cost an SQS-only container never pays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from pydantic import ValidationError

from custsync.api_docs import SYNC_API
from custsync.engine import Outcome, SyncEngine
from custsync.errors import AuthError, Incomplete, NotConfigured, RetryableError, SyncError
from custsync.failures import classify
from custsync.model import Customer, CustomerChange, utc_now
from custsync.observability import logger, metrics
from custsync.preview import wire_requests
from custsync.validation import describe_validation_error


def build_api(vendor: str, connected: Callable[[], SyncEngine]) -> APIGatewayRestResolver:
    """The sync API's resolver for one vendor function: made on the first API event, never for SQS.
    ``connected``: the vendor's engine, or what keeps its connector from being built (``VendorRuntime.connected``).
    """
    app = APIGatewayRestResolver()

    @app.put("/vendors/<vendor_name>/customers/<key>", **SYNC_API.options)
    def put_customer(vendor_name: str, key: str) -> Response[Any]:
        if vendor_name != vendor:
            return _rejected(404, f"vendor: this function serves '{vendor}', not '{vendor_name}'")
        change = _api_change(vendor, app, key)
        if isinstance(change, Response):
            return change
        logger.set_correlation_id(change.change_id)
        logger.append_keys(change_id=change.change_id, customer_key=key, vendor=vendor)
        if app.current_event.get_query_string_value("dryRun", "false").lower() == "true":
            metrics.add_metric(name="DryRuns", unit="Count", value=1)
            plan = connected().plan(change)
            if isinstance(plan, Outcome):
                return _json(200, {"dryRun": True, **plan.as_dict()})
            wire = wire_requests(connected().connector, plan.pending, plan.context)
            return _json(
                200,
                {
                    "dryRun": True,
                    "request": plan.request.as_dict(),
                    "wouldSend": plan.pending.as_dict(),
                    "wire": [item.as_dict() for item in wire],
                },
            )
        return _json(200, connected().apply(change).as_dict())

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
    def sync_error(exc: Exception) -> Response[Any]:
        exc = classify(exc, vendor)
        metrics.add_metric(name="ChangesFailed", unit="Count", value=1)
        logger.warning("change failed", extra={"reason": exc.reason, "error_type": type(exc).__name__})
        return _json(*_api_status(exc))

    return app


def _api_change(vendor: str, app: APIGatewayRestResolver, key: str) -> CustomerChange | Response[Any]:
    event = app.current_event
    try:
        body = event.json_body
    except ValueError:
        return _rejected(400, "body: is not valid JSON")
    if not isinstance(body, dict):
        return _rejected(400, "body: must be a JSON object (a canonical Customer)")
    if body.setdefault("key", key) != key:
        return _rejected(400, "key: the body's key does not match the path's")
    occurred_header = event.headers.get("X-Occurred-At")
    try:
        vendor_id = event.get_query_string_value("vendorId")
        return CustomerChange(
            change_id=event.headers.get("Idempotency-Key") or event.request_context.request_id,
            source="api",
            occurred_at=datetime.fromisoformat(occurred_header) if occurred_header else utc_now(),
            customer=Customer.model_validate(body),
            vendor_ids={vendor: vendor_id} if vendor_id else {},
        )
    except ValidationError as exc:
        return _rejected(400, describe_validation_error(exc))
    except ValueError:
        return _rejected(400, "X-Occurred-At: must be an ISO-8601 timestamp with a zone")


def _api_status(exc: SyncError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"error": exc.reason}
    if exc.status is not None:
        body["vendorStatus"] = exc.status
    if isinstance(exc, Incomplete):
        return 400, body  # the customer sent lacks what the vendor requires, and nothing known supplies it
    if isinstance(exc, RetryableError | NotConfigured):
        return 503, body  # NotConfigured: until an operator sets the vendor's secret
    if isinstance(exc, AuthError):
        return 502, body
    if exc.status is None:
        return 400, body  # our own validation of the mapped request
    return 422, body


def _rejected(status: int, error: str) -> Response[Any]:
    """A request refused before any vendor work: counted, and answered naming what was wrong."""
    metrics.add_metric(name="RequestsRejected", unit="Count", value=1)
    return _json(status, {"error": error})


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)
