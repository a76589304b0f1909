"""Turns a connector into a Lambda handler serving SQS FIFO batches and the sync API.

- SQS: ``CustomerBatchProcessor`` (``custsync/batch.py``) with partial batch response: customers
  concurrently, each customer's records in order; a record that fails does not fail its
  batch-mates, and its customer's later records wait with it, as long as it does. Permanent
  failures and invalid messages are parked in the DLQ at once with the reason as message
  attributes; retryable ones go back with exponential backoff (or the vendor's Retry-After).
  A change is parked only when given up: after ``MAX_ATTEMPTS`` real attempts at the vendor
  (counted per change in the state table), or after ``MAX_RECEIVES`` deliveries without one
  that passed; a busy lease, a wait for an uncertain call to settle or an open circuit is no
  attempt. The queue's ``maxReceiveCount`` stays above both, a backstop never reached first.
- API Gateway: ``PUT /vendors/{vendor}/customers/{key}`` with a canonical
  ``Customer`` body applies it synchronously; ``?dryRun=true`` returns the exact
  vendor request without sending it; ``?vendorId=`` names the customer's id at the
  vendor when the state table does not know it yet.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from custsync.batch import CustomerBatchProcessor, RetryLater
from custsync.breaker import CircuitBreaker
from custsync.config import VendorSettings
from custsync.connector import Connector
from custsync.deadline import invocation
from custsync.engine import EngineSettings, Outcome, SyncEngine
from custsync.errors import AuthError, PermanentError, RetryableError, SyncError
from custsync.failures import classify
from custsync.model import Customer, CustomerChange, utc_now
from custsync.observability import logger, metrics, tracer
from custsync.queues import Queues
from custsync.secrets import get_vendor_secret
from custsync.state import DynamoStateStore
from custsync.validation import describe_validation_error

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
BatchResults = dict[str, Outcome | SyncError]


class VendorRuntime:
    """Everything one vendor function needs, built once per container; nothing of one invocation is kept."""

    def __init__(self, connector_class: type[Connector], settings: VendorSettings) -> None:
        self.settings = settings
        self.connector_class = connector_class
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown_seconds)
        self.queues = Queues(settings.vendor, settings.dlq_url, lambda: self.sqs)

    @functools.cached_property
    def engine(self) -> SyncEngine:
        settings = self.settings
        connector = self.connector_class(
            settings, lambda force: get_vendor_secret(settings.vendor_secret_name, force_fetch=force)
        )
        store = DynamoStateStore(settings.state_table, settings.vendor)
        engine_settings = EngineSettings(settings.lease_seconds, settings.settle_seconds, settings.busy_retry_seconds)
        return SyncEngine(connector, store, engine_settings, self.breaker)

    @functools.cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs")

    # -- SQS ---------------------------------------------------------------------------------
    def handle_sqs(self, event: dict[str, Any]) -> dict[str, Any]:
        processor = CustomerBatchProcessor(
            self.handle_record,
            max_workers=self.settings.group_concurrency,
            prepare=self._apply_batch if self.engine.connector.batches else None,
            delay=self.queues.delay,
        )
        return dict(processor.run(event.get("Records", [])))

    def _apply_batch(self, records: list[SQSRecord]) -> BatchResults:
        """For vendors that take arrays: every valid change of the batch in one ``send_many``."""
        changes = []
        for record in records:
            try:
                changes.append(CustomerChange.model_validate_json(record.body))
            except ValidationError:
                continue  # parked with its reason when its record is handled
        try:
            return self.engine.apply_batch(changes)
        except Exception as exc:  # the whole batch failed: each of its changes fails with why, none crashes
            error = classify(exc, self.settings.vendor)
            return dict.fromkeys((change.change_id for change in changes), error)

    def handle_record(self, record: SQSRecord, batch: BatchResults | None) -> dict[str, Any]:
        try:
            change = CustomerChange.model_validate_json(record.body)
        except ValidationError as exc:
            self.queues.park(record, f"invalid message: {describe_validation_error(exc)}", "InvalidMessage")
            return {"outcome": "parked"}
        keys = {"correlation_id": change.change_id, "change_id": change.change_id, "customer_key": change.customer.key}
        logger.thread_safe_append_keys(**keys)
        try:
            try:
                return self._outcome(change, batch).as_dict()
            except Exception as exc:
                raise classify(exc, self.settings.vendor) from exc
        except RetryableError as exc:
            return self._retry_or_park(record, exc)
        except PermanentError as exc:
            self.queues.park(record, exc.reason, type(exc).__name__)
            return {"outcome": "parked"}
        finally:
            logger.thread_safe_remove_keys(list(keys))

    def _outcome(self, change: CustomerChange, batch: BatchResults | None) -> Outcome:
        """The change's outcome: computed now, or taken from this invocation's batch call."""
        if batch is None:
            return self.engine.apply(change)
        result = batch[change.change_id]
        if isinstance(result, SyncError):
            raise result
        return result

    def _retry_or_park(self, record: SQSRecord, exc: RetryableError) -> dict[str, Any]:
        """Park a change given up on; hide any other until its next try (raising, so the record fails back)."""
        deliveries = int(record.attributes.approximate_receive_count or "1")
        if exc.attempts is not None and exc.attempts >= self.settings.max_attempts:
            self.queues.park(
                record, f"gave up after {exc.attempts} attempts: {exc.reason}", "RetryableError", exc.attempts
            )
            return {"outcome": "parked"}
        if deliveries >= self.settings.max_receives:
            reason = f"gave up after {deliveries} deliveries without an attempt that passed: {exc.reason}"
            self.queues.park(record, reason, "RetryableError", exc.attempts)
            return {"outcome": "parked"}
        delay = exc.retry_after if exc.retry_after is not None else self._backoff(exc.attempts or deliveries)
        self.queues.delay([record], delay)
        metrics.add_metric(name="ChangesRetried", unit="Count", value=1)
        logger.warning(
            "change will be retried",
            extra={"reason": exc.reason, "attempt": exc.attempts, "delivery": deliveries, "delay_seconds": delay},
        )
        raise RetryLater(exc.reason, delay)

    def _backoff(self, tries: int) -> float:
        return float(min(self.settings.backoff_base_seconds * 2 ** (tries - 1), self.settings.max_backoff_seconds))

    # -- API ---------------------------------------------------------------------------------
    def api(self) -> APIGatewayRestResolver:
        app = APIGatewayRestResolver()
        vendor = self.settings.vendor

        @app.put("/vendors/<vendor_name>/customers/<key>")
        def put_customer(vendor_name: str, key: str) -> Response[Any]:
            if vendor_name != vendor:
                return _rejected(404, f"vendor: this function serves '{vendor}', not '{vendor_name}'")
            change = self._api_change(app, key)
            if isinstance(change, Response):
                return change
            logger.set_correlation_id(change.change_id)
            logger.append_keys(change_id=change.change_id, customer_key=key, vendor=vendor)
            if app.current_event.get_query_string_value("dryRun", "false").lower() == "true":
                metrics.add_metric(name="DryRuns", unit="Count", value=1)
                plan = self.engine.plan(change)
                if isinstance(plan, Outcome):
                    return _json(200, {"dryRun": True, **plan.as_dict()})
                return _json(
                    200, {"dryRun": True, "request": plan.request.as_dict(), "wouldSend": plan.pending.as_dict()}
                )
            return _json(200, self.engine.apply(change).as_dict())

        @app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
        def sync_error(exc: Exception) -> Response[Any]:
            exc = classify(exc, vendor)
            metrics.add_metric(name="ChangesFailed", unit="Count", value=1)
            logger.warning("change failed", extra={"reason": exc.reason, "error_type": type(exc).__name__})
            return _json(*_api_status(exc))

        return app

    def _api_change(self, app: APIGatewayRestResolver, key: str) -> CustomerChange | Response[Any]:
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
                vendor_ids={self.settings.vendor: vendor_id} if vendor_id else {},
            )
        except ValidationError as exc:
            return _rejected(400, describe_validation_error(exc))
        except ValueError:
            return _rejected(400, "X-Occurred-At: must be an ISO-8601 timestamp with a zone")


def _api_status(exc: SyncError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"error": exc.reason}
    if exc.status is not None:
        body["vendorStatus"] = exc.status
    if isinstance(exc, RetryableError):
        return 503, body
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


def build_handler(connector_class: type[Connector]) -> Handler:
    """The Lambda handler for one vendor: settings parsed now (cold start), clients on first use."""
    runtime = VendorRuntime(connector_class, VendorSettings.from_env())
    app = runtime.api()

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)  # the API's response is the vendor's customer record
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        metrics.add_dimension(name="vendor", value=runtime.settings.vendor)
        remaining = context.get_remaining_time_in_millis() / 1000
        with invocation(remaining, runtime.settings.deadline_margin_seconds):
            if "Records" in event:
                return runtime.handle_sqs(event)
            return app.resolve(event, context)

    handler.runtime = runtime
    return cast(Handler, handler)  # Powertools types the configured tracer decorator loosely
