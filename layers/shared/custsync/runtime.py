"""Turns a connector into a Lambda handler serving SQS FIFO batches and the sync API.

- SQS: Powertools ``SqsFifoPartialProcessor`` with partial batch response. A
  record that fails does not fail its batch-mates; later records of its group
  wait (they are reported failed unprocessed, so the group keeps its order).
  Permanent failures and invalid messages are parked in the DLQ at once with
  the reason as message attributes; retryable ones go back with exponential
  backoff (or the vendor's Retry-After) until ``MAX_ATTEMPTS``, then are parked.
- API Gateway: ``PUT /vendors/{vendor}/customers/{key}`` with a canonical
  ``Customer`` body applies it synchronously; ``?dryRun=true`` returns the exact
  vendor request without sending it; ``?vendorId=`` names the customer's id at the
  vendor when the state table does not know it yet.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from custsync.config import VendorSettings
from custsync.connector import Connector
from custsync.deadline import invocation
from custsync.engine import Outcome, SyncEngine
from custsync.errors import AuthError, PermanentError, RetryableError, SyncError
from custsync.failures import classify
from custsync.model import Customer, CustomerChange, utc_now
from custsync.observability import logger, metrics, redact_payload, tracer
from custsync.secrets import get_vendor_secret
from custsync.state import StateStore
from custsync.validation import describe_validation_error

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
MAX_VISIBILITY_SECONDS = 12 * 60 * 60


class VendorRuntime:
    """Everything one vendor function needs, built once per container."""

    def __init__(self, connector_class: type[Connector], settings: VendorSettings) -> None:
        self.settings = settings
        self.connector_class = connector_class
        self._queue_urls: dict[str, str] = {}
        self._batch_results: dict[str, Outcome | SyncError] | None = None

    @functools.cached_property
    def engine(self) -> SyncEngine:
        settings = self.settings
        connector = self.connector_class(
            settings, lambda force: get_vendor_secret(settings.vendor_secret_name, force_fetch=force)
        )
        return SyncEngine(connector, StateStore(settings.state_table, settings.vendor))

    @functools.cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs")

    # -- SQS ---------------------------------------------------------------------------------
    def handle_sqs(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        processor = SqsFifoPartialProcessor(skip_group_on_error=True)
        # Every record failing is still a partial batch response listing them all, not a crashed invocation;
        # the FIFO processor does not take this option in its constructor, its base class reads it.
        processor.raise_on_entire_batch_failure = False
        self._batch_results = self._apply_batch(event) if self.engine.connector.batches else None
        response = process_partial_response(
            event=event, record_handler=self.handle_record, processor=processor, context=context
        )
        return dict(response)

    def _apply_batch(self, event: dict[str, Any]) -> dict[str, Outcome | SyncError]:
        """For vendors that take arrays: every valid change of the batch in one ``send_many``."""
        changes = []
        for raw in event.get("Records", []):
            try:
                changes.append(CustomerChange.model_validate_json(SQSRecord(raw).body))
            except ValidationError:
                continue  # parked with its reason when its record is handled
        try:
            return self.engine.apply_batch(changes)
        except Exception as exc:  # the whole batch failed: each of its changes fails with why, none crashes
            error = classify(exc, self.settings.vendor)
            return dict.fromkeys((change.change_id for change in changes), error)

    def handle_record(self, record: SQSRecord) -> dict[str, Any]:
        logger.set_correlation_id(record.message_id)
        try:
            change = CustomerChange.model_validate_json(record.body)
        except ValidationError as exc:
            self.park(record, f"invalid message: {describe_validation_error(exc)}", "InvalidMessage")
            return {"outcome": "parked"}
        logger.set_correlation_id(change.change_id)
        logger.append_keys(customer_key=change.customer.key, vendor=self.settings.vendor)
        try:
            try:
                return self._outcome(change).as_dict()
            except Exception as exc:
                raise classify(exc, self.settings.vendor) from exc
        except RetryableError as exc:
            attempts = int(record.attributes.approximate_receive_count or "1")
            if attempts >= self.settings.max_attempts:
                self.park(record, f"gave up after {attempts} attempts: {exc.reason}", type(exc).__name__)
                return {"outcome": "parked"}
            self.back_off(record, attempts, exc.retry_after)
            metrics.add_metric(name="ChangesRetried", unit="Count", value=1)
            logger.warning("change will be retried", extra={"reason": exc.reason, "attempt": attempts})
            raise
        except PermanentError as exc:
            self.park(record, exc.reason, type(exc).__name__)
            return {"outcome": "parked"}
        finally:
            logger.remove_keys(["customer_key"])

    def _outcome(self, change: CustomerChange) -> Outcome:
        """The change's outcome: computed now, or taken from this invocation's batch call."""
        if self._batch_results is None:
            return self.engine.apply(change)
        result = self._batch_results[change.change_id]
        if isinstance(result, SyncError):
            raise result
        return result

    def park(self, record: SQSRecord, reason: str, error_type: str) -> None:
        """Move the record to the DLQ now, with why, instead of letting it be retried."""
        attributes = record.attributes
        self.sqs.send_message(
            QueueUrl=self.settings.dlq_url,
            MessageBody=record.body,
            MessageGroupId=attributes.message_group_id or "ungrouped",
            MessageDeduplicationId=attributes.message_deduplication_id or record.message_id,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:4096]},
                "errorType": {"DataType": "String", "StringValue": error_type},
                "vendor": {"DataType": "String", "StringValue": self.settings.vendor},
                "attempts": {"DataType": "Number", "StringValue": attributes.approximate_receive_count or "1"},
                "sourceMessageId": {"DataType": "String", "StringValue": record.message_id},
            },
        )
        metrics.add_metric(name="ChangesParked", unit="Count", value=1)
        logger.error(
            "change parked in the DLQ",
            extra={"reason": reason, "error_type": error_type, "parked_message": _loggable(record.body)},
        )

    def back_off(self, record: SQSRecord, attempts: int, retry_after: float | None) -> None:
        """Hide the record until its next try. If SQS refuses (an expired receipt handle, say), the record
        still fails back to the queue: it comes back after the queue's visibility timeout instead."""
        delay = retry_after if retry_after is not None else self.settings.backoff_base_seconds * 2 ** (attempts - 1)
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self._queue_url(record.event_source_arn),
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=int(min(delay, MAX_VISIBILITY_SECONDS)),
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "could not delay the retry; the queue's visibility timeout applies",
                extra={"reason": classify(exc, self.settings.vendor).reason, "wanted_delay_seconds": delay},
            )

    def _queue_url(self, queue_arn: str) -> str:
        if queue_arn not in self._queue_urls:
            *_, account, name = queue_arn.split(":")
            self._queue_urls[queue_arn] = self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
                "QueueUrl"
            ]
        return self._queue_urls[queue_arn]

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
            logger.append_keys(customer_key=key, vendor=vendor)
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


def _loggable(body: str) -> Any:
    """The message as far as it can be logged: JSON with every personal field erased, else its size."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return {"unparseable_bytes": len(body)}
    return redact_payload(parsed) if isinstance(parsed, dict) else {"json_type": type(parsed).__name__}


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
                return runtime.handle_sqs(event, context)
            return app.resolve(event, context)

    handler.runtime = runtime
    return cast(Handler, handler)  # Powertools types the configured tracer decorator loosely
