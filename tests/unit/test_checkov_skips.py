"""The checkov gate (make security): every failure explained by a skip with its reason, no skip left stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.checkov_skips import Skip, failures, problems, read_skips

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = Skip("CKV_AWS_115", ("AWS::Serverless::Function.*",), ("AWS::Serverless::Function.WebhookFunction",), "r")


def report(*failed: tuple[str, str]) -> dict[str, object]:
    return {"results": {"failed_checks": [{"check_id": c, "resource": r} for c, r in failed]}}


def test_the_committed_skips_each_give_a_reason() -> None:
    skips = read_skips(ROOT / "checkov-skips.yaml")
    assert skips
    assert all(len(skip.reason) > 20 for skip in skips)


def test_a_failure_a_skip_covers_is_no_problem() -> None:
    failed = failures(report(("CKV_AWS_115", "AWS::Serverless::Function.CentraFunction")))
    assert problems(failed, [FUNCTIONS]) == []


def test_a_failure_no_skip_covers_is_named() -> None:
    failed = failures(
        [
            report(("CKV_AWS_115", "AWS::Serverless::Function.CentraFunction")),
            report(("CKV_AWS_115", "AWS::Serverless::Function.WebhookFunction"), ("CKV_AWS_1", "AWS::SQS::Queue.Q")),
        ]
    )
    assert problems(failed, [FUNCTIONS]) == [
        "CKV_AWS_1 fails for AWS::SQS::Queue.Q, and no skip says why",
        "CKV_AWS_115 fails for AWS::Serverless::Function.WebhookFunction, and no skip says why",
    ]


def test_a_skip_nothing_fails_any_more_is_named() -> None:
    assert problems([], [FUNCTIONS]) == [
        "CKV_AWS_115 is skipped for AWS::Serverless::Function.* but fails for none: remove the skip"
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("- check: CKV_AWS_1\n  resources: [x]\n", "skip 1 (CKV_AWS_1): says no reason"),
        ("- check: CKV_AWS_1\n  reason: because\n", "resources must list"),
        ("- check: nope\n  resources: [x]\n  reason: because\n", "a checkov id"),
        ("- check: CKV_AWS_1\n  resource: [x]\n  reason: because\n", "takes check, resources"),
    ],
)
def test_a_skip_without_its_parts_is_refused_naming_it(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)")):
        read_skips(path)
