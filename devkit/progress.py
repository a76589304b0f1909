"""The operator's progress bar (rich): what is done of how much, the rate and the time left."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from devkit.enqueue import Progress as Reported

UNITS = {"validating": "bytes", "sending": "rows"}


class RateColumn(ProgressColumn):
    """Rows (or MB) a second, as measured over the last seconds."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("-", style="progress.data.speed")
        if task.fields.get("unit") == "bytes":
            return Text(f"{speed / 1e6:,.1f} MB/s", style="progress.data.speed")
        return Text(f"{speed:,.0f} rows/s", style="progress.data.speed")


class Done(ProgressColumn):
    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes":
            total = f"{task.total / 1e6:,.1f}" if task.total is not None else "?"
            return Text(f"{task.completed / 1e6:,.1f}/{total} MB", style="progress.download")
        return MofNCompleteColumn().render(task)


class RichProgress(Reported):
    """``devkit.enqueue.Progress`` drawn on ``console`` (stderr), one bar a pass."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.bars = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            Done(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=4,
            speed_estimate_period=10,
            disable=not self.console.is_terminal,  # a pipe or a log file gets the summary only
        )
        self.tasks: dict[str, TaskID] = {}

    def start(self, name: str, total: float | None) -> None:
        self.tasks[name] = self.bars.add_task(name, total=total, unit=UNITS.get(name, "rows"))

    def advance(self, name: str, amount: float) -> None:
        self.bars.advance(self.tasks[name], amount)

    def finish(self, name: str) -> None:
        self.bars.refresh()

    def __enter__(self) -> RichProgress:
        self.bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if error is not None:  # the error is the one line left
            self.bars.live.transient = True
        self.bars.stop()
