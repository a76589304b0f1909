"""The layer's lock is generated from one source, agrees with the dev lock, and ships nothing the runtime has."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devkit.stack.artifact import runtime_provided

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "layers" / "shared"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)")


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def layer_inputs() -> set[str]:
    lines = (SHARED / "requirements.in").read_text().splitlines()
    return {canonicalize_name(Requirement(line).name) for line in lines if line.strip() and not line.startswith("#")}


def test_the_lock_was_generated_from_the_current_requirements_in() -> None:
    digest = hashlib.sha256((SHARED / "requirements.in").read_bytes()).hexdigest()[:16]
    header = (SHARED / "requirements.txt").read_text().splitlines()[0]
    assert f"sha256 {digest}" in header, "requirements.in changed since the lock was made: run `make lock`"


def test_every_layer_requirement_is_pinned_with_hashes() -> None:
    text = (SHARED / "requirements.txt").read_text()
    locked = pins(SHARED / "requirements.txt")
    assert layer_inputs() <= set(locked)
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1]):
        if PIN.match(block):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_layer_and_dev_locks_agree_on_every_shared_package() -> None:
    layer, dev = pins(SHARED / "requirements.txt"), pins(ROOT / "requirements-dev.lock")
    drift = {name: (version, dev.get(name)) for name, version in layer.items() if dev.get(name) != version}
    assert drift == {}, f"layer lock vs dev lock (layer, dev): {drift}"


def test_the_layer_locks_nothing_the_lambda_runtime_provides() -> None:
    provided = {canonicalize_name(name) for name in runtime_provided(ROOT)}
    assert {"boto3", "botocore", "s3transfer"} <= provided
    assert provided.isdisjoint(pins(SHARED / "requirements.txt"))


def test_the_project_dependencies_are_the_layers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["dynamic"] == ["dependencies"]
    files = project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    assert files == ["layers/shared/requirements.in"]
