"""moto's SQS FIFO queues at depth: two hot paths made constant-time, moto's answers unchanged.

moto 5 sends a FIFO message by reading ``Queue.attributes`` four times (for ``ContentBasedDeduplication``);
that property builds every attribute, counting the queue's messages three ways each time (every message's
visibility and delay against the clock), and then every message is scanned for the same deduplication id.
Sending n messages costs O(n²) with a large constant: a queue a few thousand deep takes seconds a message,
and a bulk load (``custsync enqueue`` of 100,000 rows) never ends. The local stack patches moto where it runs
(``patch()``):

- while a message is being sent (``SendMessage``, ``SendMessageBatch``), ``attributes`` holds only
  ``ContentBasedDeduplication``, the one attribute read there; everywhere else (``GetQueueAttributes``) it is
  built and counted as before;
- a deduplication id never sent to the queue before skips the duplicate scan (it cannot find one); an id seen
  before goes through moto's own ``add_message``, so whether it is dropped is moto's answer.

    python -m devkit.stack.moto_sqs [moto_server's arguments]   moto_server, patched
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

from moto.sqs.models import Message, Queue, SQSBackend

_sending = threading.local()
_SENDS = ("send_message", "send_message_batch")


def patch() -> None:
    """Patch moto's SQS in this process (once; again is a no-op)."""
    if getattr(Queue, "_custsync_patched", False):
        return
    built: property = vars(Queue)["attributes"]
    patched: dict[tuple[type, str], Any] = {
        (Queue, "attributes"): property(_sent_with_one_attribute(built.fget)),
        (Queue, "add_message"): _seen_ids_first(Queue.add_message),
        (Queue, "_custsync_patched"): True,
        **{(SQSBackend, name): _one_attribute_while(vars(SQSBackend)[name]) for name in _SENDS},
    }
    for (owner, name), value in patched.items():
        setattr(owner, name, value)


def _sent_with_one_attribute(build: Any) -> Callable[[Queue], dict[str, Any]]:
    @functools.wraps(build)
    def attributes(queue: Queue) -> dict[str, Any]:
        if not getattr(_sending, "active", False):
            built: dict[str, Any] = build(queue)
            return built
        # As moto builds it: a FIFO queue's flag, a boolean written lower-case; a standard queue has none.
        flag = vars(queue)["content_based_deduplication"]
        return {"ContentBasedDeduplication": str(flag).lower()} if queue.fifo_queue else {}

    return attributes


def _one_attribute_while(send: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(send)
    def sending(*args: Any, **kwargs: Any) -> Any:
        outer = getattr(_sending, "active", False)
        _sending.active = True
        try:
            return send(*args, **kwargs)
        finally:
            _sending.active = outer

    return sending


def _seen_ids_first(add: Callable[[Queue, Message], None]) -> Callable[[Queue, Message], None]:
    @functools.wraps(add)
    def add_message(queue: Queue, message: Message) -> None:
        dedup_id = message.deduplication_id
        seen: set[str] = queue.__dict__.setdefault("_custsync_dedup_ids", set())
        # moto scans for a duplicate exactly when a FIFO message has a deduplication id (content-based
        # deduplication sets one); an id this queue never had cannot match.
        if queue.fifo_queue and dedup_id and dedup_id not in seen and not queue.lambda_event_source_mappings:
            seen.add(dedup_id)
            with queue._messages_lock:
                queue._messages.append(message)
                queue._messages_lock.notify_all()
            return
        if dedup_id:
            seen.add(dedup_id)
        add(queue, message)

    return add_message


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_server

    patch()
    moto_server(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
