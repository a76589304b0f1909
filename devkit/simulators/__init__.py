"""One strict simulator per vendor; ``from_secret`` builds one that accepts a vendor secret's credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devkit.simulators.base import Simulator
from devkit.simulators.exsalerate import ExsalerateSimulator

SimulatorFactory = Callable[[dict[str, Any]], Simulator]

FACTORIES: dict[str, SimulatorFactory] = {
    "exsalerate": lambda secret: ExsalerateSimulator(
        username=secret["username"], password=secret["password"], site_owner_id=int(secret.get("site_owner_id", 1))
    ),
}


def from_secret(vendor: str, secret: dict[str, Any]) -> Simulator:
    if vendor not in FACTORIES:
        raise KeyError(f"no simulator for vendor {vendor!r}; known: {', '.join(FACTORIES)}")
    return FACTORIES[vendor](secret)
