"""Erasure at one vendor: forget a customer's personal data, here, without calling the vendor.

An erasure (Shopify ``customers/redact``, HubSpot ``contact.privacyDeletion``, ``custsync forget``) reaches every
vendor function through its queue like any change. Each one, under the customer's lease:

- deletes the customer's parked messages from its own DLQ (they hold the values it was sent);
- rewrites its state row keeping only what ordering needs: the field versions, the applied change ids (the
  erasure's too: a redelivery is a duplicate), the attempts per change id, whether a call of unknown outcome may
  still land, and ``erased``, the erasure's own version, below which every later-arriving change is skipped.
  Gone: every value, the call fingerprints (hashes of what was sent: a fingerprint of an email address is still a
  way to confirm one) and the vendor-side ids (one of them, Expandable's contact code, is made from the name).
  A change newer than the erasure applies as to a customer seen for the first time;
- logs one line, ``customer erased``, with the customer key and how many parked messages it deleted.

No vendor documents an erasure call, so none is made: what the vendor holds is the vendor's (a deletion at the
source deactivates it there, ``custsync.deletion``). Until its DLQ has been gone through (all of it, none in
flight elsewhere), the erasure is not recorded as applied and is retried; its state row is already without values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from custsync.engine import EngineSettings, Outcome, skipped
from custsync.errors import RetryableError
from custsync.fields import version_of
from custsync.model import CustomerChange
from custsync.observability import logger, metrics
from custsync.state import Busy, LeaseLost, StateStore, SyncState

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

# Receives of the DLQ one erasure may make (ten messages each) before it is retried to go on.
MAX_RECEIVES = 100
# How long a message that is not the customer's stays hidden while the DLQ is gone through; it is made visible
# again as soon as the erasure is done.
SCAN_VISIBILITY_SECONDS = 60


@dataclass(frozen=True)
class Purged:
    deleted: int
    unseen: str | None = None  # why some of the DLQ could not be gone through: the erasure goes on later


class ParkedMessages:
    """A vendor's DLQ, as far as an erasure needs it: find and delete one customer's parked messages."""

    def __init__(self, dlq_url: str, sqs: Callable[[], SQSClient]) -> None:
        self.dlq_url = dlq_url
        self._sqs = sqs

    def purge(self, customer_key: str) -> Purged:
        if self._counts() == (0, 0):
            return Purged(0)
        deleted = 0
        hidden: list[str] = []  # receipts of the messages looked at that are someone else's
        try:
            for _ in range(MAX_RECEIVES):
                # Long polling (one second): an empty answer then means nothing is left to see, which a short
                # poll, sampling some of SQS's servers only, does not.
                messages = (
                    self._sqs()
                    .receive_message(
                        QueueUrl=self.dlq_url,
                        MaxNumberOfMessages=10,
                        AttributeNames=["MessageGroupId"],
                        VisibilityTimeout=SCAN_VISIBILITY_SECONDS,
                        WaitTimeSeconds=1,
                    )
                    .get("Messages", [])
                )
                if not messages:
                    # In flight elsewhere (an operator's `dlq list`, a redrive): not seen, so not known to be
                    # someone else's. The messages of a FIFO group held that way are not seen either.
                    elsewhere = self._counts()[1] - len(hidden)
                    return Purged(deleted, f"{elsewhere} parked message(s) in flight" if elsewhere > 0 else None)
                for message in messages:
                    if _is_of(message, customer_key):
                        self._sqs().delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
                        deleted += 1
                    else:
                        hidden.append(message["ReceiptHandle"])
            return Purged(deleted, f"more than {MAX_RECEIVES * 10} parked messages")
        finally:
            self._show(hidden)

    def _counts(self) -> tuple[int, int]:
        """(visible, in flight) messages of the DLQ, as SQS approximates them."""
        answer = self._sqs().get_queue_attributes(
            QueueUrl=self.dlq_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        counts = answer.get("Attributes", {})
        visible, in_flight = (
            counts.get("ApproximateNumberOfMessages"),
            counts.get("ApproximateNumberOfMessagesNotVisible"),
        )
        return int(visible or 0), int(in_flight or 0)

    def _show(self, receipts: list[str]) -> None:
        """Make the messages looked at and kept visible again at once."""
        for start in range(0, len(receipts), 10):
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for n, handle in enumerate(receipts[start : start + 10])
            ]
            self._sqs().change_message_visibility_batch(QueueUrl=self.dlq_url, Entries=entries)


def _is_of(message: Any, customer_key: str) -> bool:
    """Whether a parked message is the customer's: its group (the customer key) or its body's key says so."""
    if message.get("Attributes", {}).get("MessageGroupId") == customer_key:
        return True
    try:
        body = json.loads(message.get("Body", ""))
    except (json.JSONDecodeError, TypeError):
        return False
    customer = body.get("customer") if isinstance(body, dict) else None
    return isinstance(customer, dict) and customer.get("key") == customer_key


def erased(state: SyncState, change: CustomerChange) -> SyncState:
    """``state`` with nothing of the customer's but what ordering needs (the module's docstring says what)."""
    version = version_of(change)
    return replace(
        state,
        customer=None,
        call_hashes={},
        ids={},
        erased=max(state.erased, version) if state.erased is not None else version,
    )


class Erasure:
    """Erasures at one vendor."""

    def __init__(self, vendor: str, store: StateStore, parked: ParkedMessages, settings: EngineSettings) -> None:
        self.vendor = vendor
        self.store = store
        self.parked = parked
        self.settings = settings

    def erase(self, change: CustomerChange) -> Outcome:
        key = change.customer.key
        try:
            claim = self.store.claim(key, self.settings.lease_seconds)
        except Busy as busy:
            wait = self.settings.busy_retry_seconds
            raise RetryableError(f"busy: {busy}", vendor=self.vendor, retry_after=wait) from busy
        state = claim.state or SyncState(key)
        if claim.expired_lease_until is not None:  # its last holder died, perhaps mid-call: as the engine does
            settle = claim.expired_lease_until + self.settings.settle_seconds
            state = replace(state, uncertain=True, settle_until=max(state.settle_until, settle))
        if change.change_id in state.applied:
            self.store.release(claim)
            return skipped(change, f"duplicate: change {change.change_id} was already applied")
        without_values = erased(state, change)
        try:
            purged = self.parked.purge(key)
        except Exception:
            self.store.release(claim, without_values)
            raise
        if purged.unseen:
            self.store.release(claim, without_values)
            raise RetryableError(
                f"erasure: deleted {purged.deleted} parked message(s), will look again: {purged.unseen}",
                vendor=self.vendor,
                retry_after=float(SCAN_VISIBILITY_SECONDS),
            )
        try:
            done = [change.change_id]
            self.store.commit(claim, without_values.with_applied(done).without_attempts(done))
        except LeaseLost as exc:
            raise RetryableError(f"{exc}; the erasure is made again", vendor=self.vendor, retry_after=0.0) from exc
        metrics.add_metric(name="CustomersErased", unit="Count", value=1)
        logger.info(
            "customer erased",
            extra={"customer_key": key, "change_id": change.change_id, "parked_messages_deleted": purged.deleted},
        )
        return Outcome("applied", change.change_id, key, reason="erased", operations=["erase"])
