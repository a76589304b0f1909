"""Samples, and a benchmark row: a measure beside its floor from the same run, their ratio, and the goal."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Samples:
    values: tuple[float, ...]
    unit: str = "ms"

    @classmethod
    def of(cls, values: list[float], unit: str = "ms") -> Samples:
        return cls(tuple(values), unit)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self) -> str:
        """``median unit (min-max, n=N)``"""
        low, high = min(self.values), max(self.values)
        return f"{self.median:.1f} {self.unit} ({low:.1f}-{high:.1f}, n={len(self.values)})"


@dataclass(frozen=True)
class Row:
    name: str
    measured: Samples
    floor: Samples | None
    goal: str
    met: bool | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.measured.median / self.floor.median if self.floor else None

    def cells(self) -> list[str]:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        met = {True: "yes", False: "**no**", None: "-"}[self.met]
        floor = self.floor.show() if self.floor else "-"
        return [self.name, self.measured.show(), floor, ratio, self.goal, met, self.note]


def ratio_row(name: str, measured: Samples, floor: Samples, goal_ratio: float, note: str = "") -> Row:
    row = Row(name, measured, floor, f"≤ {goal_ratio}x", None, note)
    return Row(name, measured, floor, row.goal, (row.ratio or 0) <= goal_ratio, note)


def timed(action: Callable[[], Any], repeat: int, scale: float = 1000.0) -> list[float]:
    """Each run's wall time (ms by default)."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * scale)
    return samples


def table(rows: list[Row]) -> str:
    header = ["measure", "measured: median (spread)", "floor, same run", "ratio", "goal", "met", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)
