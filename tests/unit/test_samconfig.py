"""samconfig.toml's environments are the stages the operator's commands name: dev and prod, each stack
customer-sync-<stage> deployed with Stage=<stage> (devkit/target.py finds a stage's queues and API by that name)."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

import pytest

from devkit.stack.template import Template
from devkit.target import Target

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_environment_deploys_its_stage_as_the_stack_the_commands_look_for(stage: str) -> None:
    environment = CONFIG[stage]
    assert environment["global"]["parameters"]["stack_name"] == Target(ROOT, stage).stack_name
    overrides = dict(
        item.split("=", 1) for item in shlex.split(environment["deploy"]["parameters"]["parameter_overrides"])
    )
    assert overrides["Stage"] == stage
    assert set(overrides) <= set(Template(ROOT / "template.yaml").body["Parameters"]), "only the template's parameters"
    assert environment["validate"]["parameters"]["lint"] is True


def test_there_are_exactly_the_two_environments_and_shared_build_settings() -> None:
    assert set(CONFIG) - {"version"} == {"default", "dev", "prod"}
    assert set(CONFIG["default"]) == {"build", "validate"}, "default deploys nothing: --config-env dev|prod"
