"""One strict simulator per vendor, in ``devkit/simulators/<vendor>.py``, each with a ``from_secret(secret)`` that
builds one accepting the credentials of the vendor's secret."""

from __future__ import annotations

import importlib
from typing import Any

from devkit.simulators.base import Simulator


def from_secret(vendor: str, secret: dict[str, Any]) -> Simulator:
    try:
        module = importlib.import_module(f"devkit.simulators.{vendor}")
    except ModuleNotFoundError as exc:
        raise KeyError(f"no simulator for vendor {vendor!r}: devkit/simulators/{vendor}.py") from exc
    simulator: Simulator = module.from_secret(secret)
    return simulator
