"""``custsync enqueue`` of a million-row CSV: rows a second and peak memory.

    python -m benchmarks.enqueue [--rows 1000000]       (make bench-enqueue; make bench runs it too)

The command runs as an operator runs it (``python -m devkit.cli enqueue FILE``, every row to the five vendors
the routing selects), against a loopback SQS that answers ``GetQueueUrl`` and ``SendMessageBatch`` as SQS does
(its JSON protocol, MD5 of each body) and keeps nothing, in a process of its own: what is measured is the
command (reading, validating, building, routing, SendMessageBatch in tens, the journal), not moto, whose FIFO
queues cannot hold five million messages. Floors from the same run:

- rows a second: ``--check``, the validation pass alone over the same file (``enqueue`` reads and validates the
  file twice and sends each row five times, so it can do at best about half of that);
- peak RSS: the same command on a 1% file: memory that is bounded peaks the same for a hundred times the rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.stats import Row, Samples, table
from devkit.bulk_sample import write_csv
from devkit.stack.emulator import free_port

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"


class SinkHandler(BaseHTTPRequestHandler):
    """SQS's JSON protocol (``X-Amz-Target: AmazonSQS.<Action>``), for the two actions enqueue makes; connections
    kept alive, as SQS's endpoint keeps them (HTTP/1.0 would make the command open one per request)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        action = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        answer: dict[str, Any]
        if action == "GetQueueUrl":
            answer = {"QueueUrl": f"http://{self.headers['Host']}/{ACCOUNT}/{body['QueueName']}"}
        elif action == "SendMessageBatch":
            answer = {
                "Successful": [
                    {
                        "Id": entry["Id"],
                        "MessageId": str(uuid.uuid4()),
                        "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),
                    }
                    for entry in body["Entries"]
                ],
                "Failed": [],
            }
        else:
            self.send_response(400)
            self.end_headers()
            return
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


def serve_sink(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), SinkHandler).serve_forever()


def run_enqueue(path: Path, endpoint: str, workdir: Path, *extra: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and the summary line of one ``custsync enqueue`` in a process of its own."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    journal = workdir / f"journal-{uuid.uuid4().hex}.sqlite3"
    command = [sys.executable, "-m", "devkit.cli", "enqueue", str(path), "--stage", "bench", "--journal", str(journal)]
    out, err = workdir / "out.txt", workdir / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([*command, "--no-progress", *extra], cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)  # its own peak RSS, not its children's or ours
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"enqueue failed: {err.read_text()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out.read_text().strip().splitlines()[-1]


def enqueue_rows(rows: int = 1_000_000) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-enqueue-"))
    big = write_csv(workdir / "customers.csv", rows)
    small = write_csv(workdir / "small.csv", max(rows // 100, 1))
    port = free_port()
    sink = multiprocessing.Process(target=serve_sink, args=(port,), daemon=True)
    sink.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        time.sleep(0.5)
        checked, _, _ = run_enqueue(big, endpoint, workdir, "--check")
        seconds, peak, summary = run_enqueue(big, endpoint, workdir)
        _, small_peak, _ = run_enqueue(small, endpoint, workdir)
    finally:
        sink.terminate()
    size = big.stat().st_size / 2**20
    return [
        Row(
            f"custsync enqueue, {rows:,}-row CSV ({size:.0f} MiB) to 5 vendors: rows a second",
            Samples.of([rows / seconds], "rows/s"),
            Samples.of([rows / checked], "rows/s"),
            "reported (two passes, five sends a row)",
            None,
            f"floor: --check, the validation pass alone; {summary}",
        ),
        Row(
            f"custsync enqueue, {rows:,}-row CSV: peak RSS",
            Samples.of([peak], "MiB"),
            Samples.of([small_peak], "MiB"),
            "bounded: ≤ 1.25x the 1% file's",
            peak <= 1.25 * small_peak,
            f"floor: the same command on {max(rows // 100, 1):,} rows",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(table(enqueue_rows(args.rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
