"""Field-level last-writer-wins: which of a change's fields are newer than what is held.

A customer is a set of leaves: ``first_name``, ``address.city``, ``attributes.tier``... and
the whole-object clears ``address``, ``phones`` and ``attributes`` (a change that sent ``null``
for them). Each held leaf has the version of the change that set it: (occurred_at in
microseconds, change id), compared as a tuple, so equal times are broken by change id the
same way everywhere. A change applies every leaf it carries that is newer than the held one
(a leaf under a cleared object is as old as the newer of its own and the clear's version),
whatever order the changes arrive in; the result is the same for any arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from custsync.model import Address, Customer, CustomerChange, Phones

Version = tuple[int, str]
# Objects a change can clear whole; their children are leaves of their own. None: open keys (attributes).
PARENTS: dict[str, tuple[str, ...] | None] = {
    "address": tuple(Address.model_fields),
    "phones": tuple(Phones.model_fields),
    "attributes": None,
}


def occurred_us(change: CustomerChange) -> int:
    return int(change.occurred_at.timestamp() * 1_000_000)


def version_of(change: CustomerChange) -> Version:
    return (occurred_us(change), change.change_id)


def leaves(customer: Customer) -> dict[str, Any]:
    """Every leaf the customer holds or a change sends, as ``path -> value`` (``address -> None``: cleared whole)."""
    found: dict[str, Any] = {}
    for name in customer.model_fields_set - {"key"}:
        value = getattr(customer, name)
        if name not in PARENTS or value is None:
            found[name] = value
        elif isinstance(value, dict):
            found.update({f"{name}.{key}": item for key, item in value.items()})
        else:
            found.update({f"{name}.{child}": getattr(value, child) for child in value.model_fields_set})
    return found


@dataclass
class Fields:
    """What is held for one customer at one vendor: each leaf's value and the version that set it."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, Version] = field(default_factory=dict)

    @classmethod
    def of(cls, customer: Customer | None, versions: dict[str, Version], key: str) -> Fields:
        return cls(key, leaves(customer) if customer else {}, dict(versions))

    def copy(self) -> Fields:
        return Fields(self.key, dict(self.values), dict(self.versions))

    def held_version(self, path: str) -> Version | None:
        """The version a new value of ``path`` must beat: its own, or its object's clear if newer."""
        own = self.versions.get(path)
        parent = path.partition(".")[0] if "." in path else None
        cleared = self.versions.get(parent) if parent else None
        if own is None or (cleared is not None and cleared > own):
            return cleared
        return own

    def apply(self, change: CustomerChange) -> list[str]:
        """Apply every leaf of ``change`` newer than the held one; the paths applied."""
        version = version_of(change)
        applied = []
        for path, value in sorted(leaves(change.customer).items()):
            held = self.held_version(path)
            if held is not None and held >= version:
                continue
            applied.append(path)
            if path in PARENTS:
                self._clear(path, version)
            else:
                self.values[path] = value
                self.versions[path] = version
        return applied

    def _clear(self, parent: str, version: Version) -> None:
        """``parent`` sent as null: its children older than ``version`` are cleared with it.

        An object with fixed children (address, phones) then holds every one of them as cleared, so a
        full send clears them at the vendor too; open keys (attributes) older than the clear are gone,
        as if never sent, exactly as when they arrive after it. Either way the arrival order does not matter.
        """
        self.values[parent] = None
        self.versions[parent] = version
        children = PARENTS[parent]
        paths = (
            [f"{parent}.{c}" for c in children] if children else [p for p in self.values if p.startswith(f"{parent}.")]
        )
        for path in paths:
            if self.versions.get(path, (-1, "")) < version:
                if children:
                    self.values[path], self.versions[path] = None, version
                else:
                    self.values.pop(path, None)
                    self.versions.pop(path, None)

    def customer(self) -> Customer:
        """The held values as a canonical customer: what the vendor should hold."""
        data: dict[str, Any] = {"key": self.key}
        for path, value in self.values.items():
            head, _, child = path.partition(".")
            if child:
                children = data.get(head)
                data[head] = {**(children if isinstance(children, dict) else {}), child: value}
            elif head not in PARENTS:
                data[head] = value
        for parent in PARENTS:
            children = data.get(parent)
            if parent in self.values and not (
                isinstance(children, dict) and any(v is not None for v in children.values())
            ):
                data[parent] = None  # cleared, and nothing set since
        return Customer.model_validate(data)
