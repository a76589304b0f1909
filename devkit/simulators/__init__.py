"""One strict simulator per vendor; ``from_secret`` builds one that accepts a vendor secret's credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from devkit.simulators.base import Simulator
from devkit.simulators.centra import CentraSimulator
from devkit.simulators.everlytic import EverlyticSimulator
from devkit.simulators.exigo import ExigoSimulator
from devkit.simulators.expandable import ExpandableSimulator
from devkit.simulators.exsalerate import ExsalerateSimulator

SimulatorFactory = Callable[[dict[str, Any]], Simulator]

FACTORIES: dict[str, SimulatorFactory] = {
    "exsalerate": lambda s: ExsalerateSimulator(s["username"], s["password"], int(s.get("site_owner_id", 1))),
    "exigo": lambda s: ExigoSimulator(s["login_name"], s["password"], s["company"]),
    "centra": lambda s: CentraSimulator(
        s["username"], s["password"], stores=(int(s.get("store", 1)),), path=urlsplit(s["base_url"]).path
    ),
    "expandable": lambda s: ExpandableSimulator(s["data_source"], s["user_name"], s["password"]),
    "everlytic": lambda s: EverlyticSimulator(
        s["username"], s["api_key"], xmlrpc_path=urlsplit(s.get("xmlrpc_url", "/xmlrpc")).path
    ),
}


def from_secret(vendor: str, secret: dict[str, Any]) -> Simulator:
    if vendor not in FACTORIES:
        raise KeyError(f"no simulator for vendor {vendor!r}; known: {', '.join(FACTORIES)}")
    return FACTORIES[vendor](secret)
