"""The clock the tests sign webhooks with, and the webhook under test checks signed timestamps against.

Real time while the suite is collected; from the first test on, ``SHIFT_SECONDS`` later, as if the suite had
already been running that long (``pytest_collection_finish`` in conftest moves it on; ``--clock-shift`` sets how
far, 0 turns it off). The webhook built in the tests' process reads it as its ``time`` (conftest's
``webhook_on_the_suite_clock``), and ``flow.signed`` signs with it. A request signed when its module was imported
is then more than the webhook's five minutes old when a test sends it, and is refused, however fast the machine:
every test must sign when it sends. Code that runs in its own process (the emulator, the demo) keeps the real
clock, and so do the signatures made for it.
"""

from __future__ import annotations

import time

SHIFT_SECONDS = 660.0


class SuiteClock:
    def __init__(self) -> None:
        self.shift = 0.0

    def now(self) -> float:
        """Unix seconds, as the tests and the webhook under test see them."""
        return time.time() + self.shift

    time = now  # so that it stands in for the ``time`` module where only ``time.time()`` is read

    def move_on(self, seconds: float) -> None:
        self.shift = seconds


CLOCK = SuiteClock()
