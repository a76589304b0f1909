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

    def quantile(self, fraction: float) -> float:
        """The value ``fraction`` of the way up the sorted samples (nearest rank): 0.5 the median, 0.99 p99."""
        if fraction == 0.5:
            return self.median
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]

    def show(self, fraction: float = 0.5) -> str:
        """``median unit (min-max, n=N)``, or ``p99 value unit (min-max, n=N)``"""
        low, high = min(self.values), max(self.values)
        label = "" if fraction == 0.5 else f"p{fraction * 100:g} "
        return f"{label}{self.quantile(fraction):.1f} {self.unit} ({low:.1f}-{high:.1f}, n={len(self.values)})"


@dataclass(frozen=True)
class Row:
    name: str
    measured: Samples
    floor: Samples | None
    goal: str
    met: bool | None
    note: str = ""
    #: Which value of each side the row compares: 0.5 their medians, 0.99 their p99s.
    fraction: float = 0.5

    @property
    def ratio(self) -> float | None:
        return self.measured.quantile(self.fraction) / self.floor.quantile(self.fraction) if self.floor else None

    def cells(self) -> list[str]:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        met = {True: "yes", False: "**no**", None: "-"}[self.met]
        floor = self.floor.show(self.fraction) if self.floor else "-"
        return [self.name, self.measured.show(self.fraction), floor, ratio, self.goal, met, self.note]


def ratio_row(
    name: str, measured: Samples, floor: Samples, goal_ratio: float, note: str = "", fraction: float = 0.5
) -> Row:
    row = Row(name, measured, floor, f"≤ {goal_ratio}x", None, note, fraction)
    return Row(name, measured, floor, row.goal, (row.ratio or 0) <= goal_ratio, note, fraction)


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
