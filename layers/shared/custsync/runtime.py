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
- API Gateway: the sync API (``custsync/sync_api.py``), loaded on the first API event.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from custsync import aws, routing, snapstart
from custsync.batch import CustomerBatchProcessor, RetryLater, SQSRecord
from custsync.breaker import CircuitBreaker
from custsync.config import VendorSettings
from custsync.connector import Connector
from custsync.deadline import invocation
from custsync.engine import EngineSettings, Outcome, SyncEngine
from custsync.errors import PermanentError, RetryableError, SyncError
from custsync.failures import classify
from custsync.model import Customer, CustomerChange
from custsync.observability import logger, metrics, traced
from custsync.queues import Queues
from custsync.secrets import get_vendor_secret
from custsync.state import DynamoStateStore
from custsync.validation import describe_validation_error

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from mypy_boto3_sqs import SQSClient

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
BatchResults = dict[str, Outcome | SyncError]


class VendorRuntime:
    """Everything one vendor function needs, built once per container; nothing of one invocation is kept."""

    def __init__(self, connector_class: type[Connector], settings: VendorSettings) -> None:
        self.settings = with_routing(settings, routing.current())
        self.connector_class = connector_class
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown_seconds)
        self.queues = Queues(settings.vendor, settings.dlq_url, lambda: self.sqs)

    @functools.cached_property
    def api(self) -> APIGatewayRestResolver:
        from custsync.sync_api import build_api

        return build_api(self)

    @functools.cached_property
    def engine(self) -> SyncEngine:
        settings = self.settings
        connector = self.connector_class(
            settings, lambda force: get_vendor_secret(settings.vendor_secret_name, force_fetch=force)
        )
        store = DynamoStateStore(settings.state_table, settings.vendor)
        engine_settings = EngineSettings(settings.lease_seconds, settings.settle_seconds, settings.busy_retry_seconds)
        return SyncEngine(connector, store, engine_settings, self.breaker, route=self.unrouted)

    def unrouted(self, change: CustomerChange, customer: Customer) -> str | None:
        """Why the routing holds ``customer`` back from this vendor (its conditions), or None."""
        return routing.current().unmet(change.source, self.settings.vendor, customer)

    @property
    def sqs(self) -> SQSClient:
        return aws.sqs()

    # -- SnapStart -----------------------------------------------------------------------------
    def before_snapshot(self) -> None:
        """Load what every container needs and no secret is part of: the API's code, the WSDL, the AWS
        service models (the clients themselves, which hold credentials, are made after a restore)."""
        from custsync import sync_api  # noqa: F401 - imported for the snapshot

        aws.load_service_models("dynamodb", "secretsmanager", "sqs")
        self.connector_class.before_snapshot(self.settings)

    def after_restore(self) -> None:
        """Drop the connector (its clients, token and credentials): the next record makes it again."""
        self.__dict__.pop("engine", None)

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
        if exc.attempts is not None:
            delay = exc.retry_after if exc.retry_after is not None else self._backoff(exc.attempts)
        else:  # a wait (busy, settling, circuit open, AWS down): longer each delivery, so waiting never dead-letters
            delay = max(exc.retry_after or 0.0, self._backoff(deliveries))
        self.queues.delay([record], delay)
        metrics.add_metric(name="ChangesRetried", unit="Count", value=1)
        logger.warning(
            "change will be retried",
            extra={"reason": exc.reason, "attempt": exc.attempts, "delivery": deliveries, "delay_seconds": delay},
        )
        raise RetryLater(exc.reason, delay)

    def _backoff(self, tries: int) -> float:
        return float(min(self.settings.backoff_base_seconds * 2 ** (tries - 1), self.settings.max_backoff_seconds))


def with_routing(settings: VendorSettings, routes: routing.Routing) -> VendorSettings:
    """The vendor's field map and options from the routing file: read at cold start, so a change to them
    takes effect with the next container (routes and conditions are read on every batch)."""
    vendor = routes.vendor(settings.vendor)
    return settings.model_copy(update={"field_map": dict(vendor.field_map), "vendor_options": dict(vendor.options)})


def build_handler(connector_class: type[Connector]) -> Handler:
    """The Lambda handler for one vendor: settings parsed now (cold start), clients on first use."""
    runtime = VendorRuntime(connector_class, VendorSettings.from_env())
    snapstart.register(runtime)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @traced(capture_response=False)  # the API's response is the vendor's customer record
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        metrics.add_dimension(name="vendor", value=runtime.settings.vendor)
        remaining = context.get_remaining_time_in_millis() / 1000
        with invocation(remaining, runtime.settings.deadline_margin_seconds):
            if "Records" in event:
                return runtime.handle_sqs(event)
            return runtime.api.resolve(event, context)

    handler.runtime = runtime  # type: ignore[attr-defined]  # for tests and SnapStart's hooks
    return handler
