"""A customer deleted at the source, at one vendor: what the routing file's ``on_delete`` says.

``deactivate`` turns the deletion into an update of the canonical ``status`` alone (``inactive``), at the
deletion's time and with its change id, so it goes to the vendor through the vendor's own update call and obeys
every rule an update does (field-level ordering, the lease, retries, the routing's conditions). ``ignore`` leaves
the vendor as it is. A vendor that holds nothing of the customer from customer-sync (never sent, or erased since)
is not asked to deactivate it: every update call here is an upsert, and would create the customer only to mark
it inactive.
"""

from __future__ import annotations

from collections.abc import Callable

from custsync import routing
from custsync.engine import Outcome, skipped
from custsync.errors import ConfigurationError
from custsync.model import Customer, CustomerChange, CustomerStatus
from custsync.state import StateStore

DeleteAction = routing.DeleteAction


def delete_action(routes: routing.Routing, vendor: str, status_field: str | None) -> DeleteAction:
    """The vendor's ``on_delete``; a ``ConfigurationError`` when it says deactivate and the vendor has no status."""
    action = routes.vendor(vendor).delete_action(status_field)
    if action == "deactivate" and not status_field:
        raise ConfigurationError(f"routing vendors.{vendor}.on_delete: deactivate, but {vendor} has no status field")
    return action


class Deletions:
    """Deletions at one vendor; ``action`` is read for each one (the routing file may change while warm)."""

    def __init__(self, vendor: str, store: StateStore, action: Callable[[], DeleteAction]) -> None:
        self.vendor = vendor
        self.store = store
        self.action = action

    def as_update(self, change: CustomerChange) -> CustomerChange | Outcome:
        """What ``change`` becomes here: itself (an update), its deactivation, or its outcome (nothing to do)."""
        if change.kind != "delete":
            return change
        action = self.action()
        if action == "ignore":
            return skipped(change, f"deleted at the source; routing says {self.vendor} ignores deletions")
        state = self.store.load(change.customer.key)
        if state is None or state.customer is None:
            return skipped(change, f"deleted at the source; {self.vendor} holds nothing of it from customer-sync")
        return deactivation(change)


def deactivation(change: CustomerChange) -> CustomerChange:
    """A deletion as the update that deactivates its customer: the canonical status alone, ``inactive``."""
    return CustomerChange(
        change_id=change.change_id,
        source=change.source,
        occurred_at=change.occurred_at,
        customer=Customer(key=change.customer.key, status=CustomerStatus.INACTIVE),
    )
