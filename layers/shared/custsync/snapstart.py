"""Lambda SnapStart runtime hooks (``snapshot_restore_py`` ships in the Python managed runtimes).

Before the snapshot: the work every container repeats and no secret is part of (imports, the WSDL
parse, the AWS service models its clients are made from). After a restore: nothing the snapshot may
hold is trusted: the AWS clients and their credentials, the cached secrets, the connector (and its
token) are made again on first use. Outside SnapStart the hooks are registered and never run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from custsync import aws, routing, secrets
from custsync.observability import logger


class Restartable(Protocol):
    def before_snapshot(self) -> None: ...

    def after_restore(self) -> None: ...


class AwsServiceModels:
    """A function whose snapshot holds only the AWS service models its clients need (the webhook's)."""

    def __init__(self, *services: str) -> None:
        self.services = services

    def before_snapshot(self) -> None:
        aws.load_service_models(*self.services)

    def after_restore(self) -> None:
        return


def register(component: Restartable) -> bool:
    """Register ``component``'s hooks; False where the library is absent (tests, other runtimes)."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(component.before_snapshot)
    register_after_restore(_restored(component.after_restore))
    return True


def _restored(hook: Callable[[], None]) -> Callable[[], None]:
    def after_restore() -> None:
        secrets.forget()
        routing.forget()
        aws.forget()
        hook()
        logger.info("restored from a SnapStart snapshot; credentials and clients will be made again")

    return after_restore
