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

The connector is built on first use, from the vendor's secret, never at cold start. While it cannot be built,
each record fails with why: a secret not configured (``{}``, a key missing, a placeholder, a wrong value) parks
it at once (``NotConfigured``), Secrets Manager failing retries it; the invocation itself never fails.
- Kinds of change: an update goes to the engine; a deletion becomes the routing's ``on_delete`` here
  (``custsync/deletion.py``: a deactivation, which is an update, or nothing); an erasure is applied to this
  vendor's own state row and DLQ (``custsync/erasure.py``), never sent to the vendor, and needs no connector.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from custsync import aws, routing, secrets, snapstart
from custsync.batch import CustomerBatchProcessor, RetryLater, SQSRecord
from custsync.config import VendorSettings
from custsync.connector import Connector
from custsync.deadline import invocation
from custsync.deletion import Deletions, delete_action
from custsync.engine import EngineSettings, Outcome, SyncEngine
from custsync.erasure import Erasure, ParkedMessages
from custsync.errors import ConfigurationError, PermanentError, RetryableError, SyncError
from custsync.failures import classify
from custsync.model import Customer, CustomerChange
from custsync.observability import logger, metrics, traced
from custsync.queues import Queues
from custsync.rate_limit import RateLimiter
from custsync.state import DynamoStateStore
from custsync.validation import describe_validation_error
from custsync.vendor_guard import VendorGuard
from custsync.vendor_health import VendorHealth
from custsync.vendor_rows import DynamoVendorRows

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
        self.queues = Queues(settings.vendor, settings.dlq_url, lambda: self.sqs)
        delete_action(routing.current(), settings.vendor, connector_class.status_field)  # a wrong on_delete fails now

    @functools.cached_property
    def api(self) -> APIGatewayRestResolver:
        from custsync.sync_api import build_api

        return build_api(self.settings.vendor, self.connected)

    @functools.cached_property
    def engine(self) -> SyncEngine:
        """Built on first use; ``NotConfigured`` (not cached) while the vendor's secret is unset or wrong."""
        settings = self.settings
        connector = self.connector_class(
            settings, lambda force: secrets.get_secret_json(settings.vendor_secret_name, force_fetch=force)
        )
        return SyncEngine(connector, self.store, self.engine_settings, vendor_guard(settings), route=self.unrouted)

    @functools.cached_property
    def store(self) -> DynamoStateStore:
        return DynamoStateStore(self.settings.state_table, self.settings.vendor)

    @functools.cached_property
    def engine_settings(self) -> EngineSettings:
        settings = self.settings
        return EngineSettings(settings.lease_seconds, settings.settle_seconds, settings.busy_retry_seconds)

    @functools.cached_property
    def deletions(self) -> Deletions:
        vendor = self.settings.vendor
        status_field = self.connector_class.status_field
        return Deletions(vendor, self.store, lambda: delete_action(routing.current(), vendor, status_field))

    @functools.cached_property
    def erasure(self) -> Erasure:
        parked = ParkedMessages(self.settings.dlq_url, lambda: self.sqs)
        return Erasure(self.settings.vendor, self.store, parked, self.engine_settings)

    def connected(self) -> SyncEngine:
        """The engine; raises what keeps its connector from being built. A secret found not configured is read
        afresh next time, not from the cache: once the operator sets it, a redrive goes through at once."""
        try:
            return self.engine
        except ConfigurationError:
            secrets.forget()
            raise

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
        prepare: Callable[[list[SQSRecord]], BatchResults] | None
        try:
            prepare = self._apply_batch if self.connected().connector.batches else None
        except Exception as exc:  # no connector (its secret unset, say): each change is parked or retried with why
            prepare = functools.partial(self._fail_each, classify(exc, self.settings.vendor))
        processor = CustomerBatchProcessor(
            self.handle_record,
            max_workers=self.settings.calls_per_container,
            prepare=prepare,
            delay=self.queues.delay,
        )
        return dict(processor.run(event.get("Records", [])))

    def _apply_batch(self, records: list[SQSRecord]) -> BatchResults:
        """For vendors that take arrays: every valid change of the batch in one ``send_many``. A customer with an
        erasure in the batch is left out: its records are applied one by one, in order, as they are handled."""
        changes = _valid_changes(records)
        erasing = {change.customer.key for change in changes if change.kind == "erase"}
        changes = [change for change in changes if change.customer.key not in erasing]
        results: BatchResults = {}
        try:
            updates = []
            for change in changes:
                update = self.deletions.as_update(change)
                if isinstance(update, Outcome):
                    results[change.change_id] = update
                else:
                    updates.append(update)
            results.update(self.engine.apply_batch(updates))
        except Exception as exc:  # the whole batch failed: each of its changes fails with why, none crashes
            error = classify(exc, self.settings.vendor)
            results.update({change.change_id: error for change in changes if change.change_id not in results})
        return results

    @staticmethod
    def _fail_each(error: SyncError, records: list[SQSRecord]) -> BatchResults:
        """Every valid change of the batch that needs the vendor fails with ``error``; erasures need none of it."""
        return {change.change_id: error for change in _valid_changes(records) if change.kind != "erase"}

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
            self.queues.park(record, exc.reason, type(exc).__name__, exc.attempts)
            return {"outcome": "parked"}
        finally:
            logger.thread_safe_remove_keys(list(keys))

    def _outcome(self, change: CustomerChange, batch: BatchResults | None) -> Outcome:
        """The change's outcome: taken from this invocation's batch call, or computed now."""
        if batch is None or change.change_id not in batch:
            return self.apply(change)
        result = batch[change.change_id]
        if isinstance(result, SyncError):
            raise result
        return result

    def apply(self, change: CustomerChange) -> Outcome:
        """Apply one change of any kind; raises ``SyncError`` when it failed."""
        if change.kind == "erase":
            return self.erasure.erase(change)
        update = self.deletions.as_update(change)
        return update if isinstance(update, Outcome) else self.engine.apply(update)

    def _retry_or_park(self, record: SQSRecord, exc: RetryableError) -> dict[str, Any]:
        """Park a change given up on; hide any other until its next try (raising, so the record fails back)."""
        deliveries = int(record.attributes.approximate_receive_count or "1")
        given_up, delay = next_try(self.settings, exc.attempts, exc.retry_after, deliveries)
        if given_up is not None:
            self.queues.park(record, f"{given_up}: {exc.reason}", "RetryableError", exc.attempts)
            return {"outcome": "parked"}
        self.queues.delay([record], delay)
        metrics.add_metric(name="ChangesRetried", unit="Count", value=1)
        logger.warning(
            "change will be retried",
            extra={"reason": exc.reason, "attempt": exc.attempts, "delivery": deliveries, "delay_seconds": delay},
        )
        raise RetryLater(exc.reason, delay)


def next_try(
    settings: VendorSettings, attempts: int | None, retry_after: float | None, deliveries: int
) -> tuple[str | None, float]:
    """After a retryable failure: why the change is given up (then parked), or None and the seconds until it is
    tried again. ``attempts`` is None for a wait that was no attempt (busy, settling, turned back by the
    vendor's shared limits, AWS down): those wait longer each delivery, so waiting never dead-letters before
    ``max_receives`` deliveries."""
    if attempts is not None and attempts >= settings.max_attempts:
        return f"gave up after {attempts} attempts", 0.0
    if deliveries >= settings.max_receives:
        return f"gave up after {deliveries} deliveries without an attempt that passed", 0.0
    if attempts is not None:
        return None, retry_after if retry_after is not None else backoff(settings, attempts)
    return None, max(retry_after or 0.0, backoff(settings, deliveries))


def backoff(settings: VendorSettings, tries: int) -> float:
    return float(min(settings.backoff_base_seconds * 2 ** (tries - 1), settings.max_backoff_seconds))


def vendor_guard(settings: VendorSettings) -> VendorGuard:
    """The vendor's shared circuit breaker, pause and rate limit, on its rows of the state table."""
    rows = DynamoVendorRows(settings.state_table, settings.vendor)
    health = VendorHealth(
        rows,
        settings.vendor,
        threshold=settings.breaker_threshold,
        cooldown_seconds=settings.breaker_cooldown_seconds,
        cache_seconds=settings.health_cache_seconds,
    )
    limiter = RateLimiter(rows, settings.requests_per_second) if settings.requests_per_second else None
    containers = settings.most_containers
    if settings.max_in_flight and containers is not None and settings.max_in_flight < containers:
        logger.warning(
            "MAX_IN_FLIGHT is below the containers the event source may run: each makes one call at a time",
            extra={"max_in_flight": settings.max_in_flight, "containers": containers},
        )
    return VendorGuard(
        settings.vendor,
        health,
        limiter,
        rate_wait_seconds=settings.rate_wait_seconds,
        call_timeout_seconds=settings.call_timeout_seconds,
    )


def _valid_changes(records: list[SQSRecord]) -> list[CustomerChange]:
    changes = []
    for record in records:
        try:
            changes.append(CustomerChange.model_validate_json(record.body))
        except ValidationError:
            continue  # parked with its reason when its record is handled
    return changes


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
