"""``make security``: checkov on ``template.yaml``, held to ``checkov-skips.yaml``.

    python -m devkit.checkov_skips --checkov .venv-checks/bin/checkov

checkov runs from its own virtualenv (it pins an older boto3 than the dev lock). Every check it fails must be
named, for that resource, by a skip with its reason; a skip that no longer matches a failure is an error too, so
the file says what is true. Exit 0 when both hold, else 1 with one line a problem.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Skip:
    check: str
    resources: tuple[str, ...]
    excepting: tuple[str, ...]
    reason: str

    def covers(self, check: str, resource: str) -> bool:
        return (
            check == self.check
            and any(fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources)
            and not any(fnmatch.fnmatchcase(resource, pattern) for pattern in self.excepting)
        )


def read_skips(path: Path) -> list[Skip]:
    """The skip file, or a ``ValueError`` naming the entry that is not a skip with a reason."""
    entries = yaml.safe_load(path.read_text()) or []
    if not isinstance(entries, list):
        raise ValueError(f"{path.name}: a list of skips")
    skips = []
    for n, entry in enumerate(entries, 1):
        where = f"{path.name}: skip {n}"
        if not isinstance(entry, dict) or set(entry) - {"check", "resources", "excepting", "reason"}:
            raise ValueError(f"{where}: takes check, resources, excepting and reason")
        if not str(entry.get("check", "")).startswith("CKV"):
            raise ValueError(f"{where}: check must be a checkov id (CKV_...)")
        if not str(entry.get("reason", "")).strip():
            raise ValueError(f"{where} ({entry['check']}): says no reason")
        resources = entry.get("resources")
        if not isinstance(resources, list) or not resources:
            raise ValueError(f"{where} ({entry['check']}): resources must list the resources it applies to")
        excepting = entry.get("excepting") or []
        skips.append(Skip(str(entry["check"]), tuple(map(str, resources)), tuple(map(str, excepting)), entry["reason"]))
    return skips


def failures(report: Any) -> list[tuple[str, str]]:
    """(check id, resource) for every check failed in checkov's JSON report (one framework or a list of them)."""
    reports = report if isinstance(report, list) else [report]
    return sorted(
        (str(failed["check_id"]), str(failed["resource"]))
        for one in reports
        for failed in one.get("results", {}).get("failed_checks", [])
    )


def problems(failed: Iterable[tuple[str, str]], skips: Sequence[Skip]) -> list[str]:
    """Each failure no skip covers, and each skip that covers no failure."""
    found = list(failed)
    unexplained = [
        f"{check} fails for {resource}, and no skip says why"
        for check, resource in found
        if not any(skip.covers(check, resource) for skip in skips)
    ]
    stale = [
        f"{skip.check} is skipped for {', '.join(skip.resources)} but fails for none: remove the skip"
        for skip in skips
        if not any(skip.covers(check, resource) for check, resource in found)
    ]
    return unexplained + stale


def run_checkov(checkov: Path, template: Path) -> Any:
    # --skip-download: no Prisma Cloud look-ups; the checks are the ones this pinned version ships.
    command = [str(checkov), "-f", str(template), "-o", "json", "--quiet", "--compact", "--skip-download"]
    answer = subprocess.run(command, capture_output=True, text=True, cwd=template.parent, check=False)
    try:
        return json.loads(answer.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"checkov gave no report (exit {answer.returncode}): {answer.stderr[-2000:]}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkov", type=Path, required=True, help="the checkov command (.venv-checks/bin/checkov)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--skips", type=Path, default=ROOT / "checkov-skips.yaml")
    args = parser.parse_args(argv)
    skips = read_skips(args.skips)
    failed = failures(run_checkov(args.checkov, args.template))
    found = problems(failed, skips)
    for problem in found:
        print(f"checkov: {problem}", file=sys.stderr)
    skipped = sum(1 for check, resource in failed if any(skip.covers(check, resource) for skip in skips))
    print(f"checkov: {skipped} failure(s), each skipped with its reason in {args.skips.name}; {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
