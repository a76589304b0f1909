"""The enqueue journal: what SQS accepted stays known to later runs, per queue; a run knows its own repeats."""

from __future__ import annotations

from pathlib import Path

from devkit.journal import FLUSH_EVERY, Journal

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/customer-sync-dev-exigo.fifo"
OTHER = "https://sqs.eu-west-1.amazonaws.com/123456789012/customer-sync-prod-exigo.fifo"


def test_what_one_run_recorded_the_next_run_finds_on_that_queue_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as first:
        first.record(QUEUE, ["a", "b"])
    with Journal(path) as second:
        assert second.queued(QUEUE, ["a", "b", "c"]) == {"a", "b"}
        assert second.queued(OTHER, ["a"]) == set()


def test_many_ids_are_written_in_batches_and_all_found(tmp_path: Path) -> None:
    ids = [f"bulk-{n:06d}" for n in range(FLUSH_EVERY * 2 + 7)]
    with Journal(tmp_path / "journal.sqlite3") as journal:
        for start in range(0, len(ids), 10):
            journal.record(QUEUE, ids[start : start + 10])
        assert journal.count(QUEUE) == len(ids)
        assert journal.queued(QUEUE, ids) == set(ids)


def test_a_run_knows_the_ids_it_has_had_and_a_new_run_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as run:
        assert run.first_in_run(["a", "b"]) == {"a", "b"}
        assert run.first_in_run(["b", "c"]) == {"c"}
    with Journal(path) as later:
        assert later.first_in_run(["a"]) == {"a"}
