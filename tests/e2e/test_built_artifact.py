"""What deploys is what is tested: the built artifact imports in an interpreter laid out as Lambda's."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from custsync import routing_yaml
from devkit.stack.artifact import BuiltArtifact, runtime_provided
from devkit.stack.template import Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template(ROOT / "template.yaml", {"Stage": "local"})
FUNCTIONS = sorted(TEMPLATE.of_type("AWS::Serverless::Function"))
pytestmark = pytest.mark.e2e


class Placeholders(Mapping[str, Mapping[str, str]]):
    """Any resource's physical name or attribute: a placeholder, enough for settings parsed at cold start."""

    def __getitem__(self, logical_id: str) -> Mapping[str, str]:
        return {attribute: f"local-{logical_id}-{attribute}" for attribute in ("Ref", "Arn", "QueueName", "Name")}

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def function_environment(logical_id: str) -> dict[str, str]:
    resolved = TEMPLATE.resolver(Placeholders(), "customer-sync-local").resolve(
        TEMPLATE.function(logical_id).environment
    )
    return {name: str(value) for name, value in resolved.items()}


def import_in_lambda_layout(logical_id: str, *modules: str) -> list[dict[str, str]]:
    """Import ``modules`` as ``logical_id``'s Lambda would; the failures."""
    artifact = BuiltArtifact(ROOT)
    artifact.check(logical_id)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LAMBDA_SYS_PATH": artifact.sys_path(logical_id),
        **function_environment(logical_id),
    }
    result = subprocess.run(
        artifact.python("import", *modules), env=env, capture_output=True, text=True, timeout=120, check=False
    )
    failures = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert failures or result.returncode == 0, result.stderr[-2000:]
    return failures


def loaded_at_cold_start(logical_id: str) -> set[str]:
    """Every module loaded once ``logical_id``'s handler is imported as its Lambda would import it."""
    module = TEMPLATE.function(logical_id).handler.rsplit(".", 1)[0]
    artifact = BuiltArtifact(ROOT)
    artifact.check(logical_id)
    env = {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LAMBDA_SYS_PATH": artifact.sys_path(logical_id),
        **function_environment(logical_id),
    }
    code = (
        "import json, os, sys; sys.path[:0] = os.environ['LAMBDA_SYS_PATH'].split(os.pathsep); "
        f"import {module}; print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run([*artifact.interpreter(), "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.splitlines()[-1]))


# What the built functions' cold start leaves out (tests/unit/test_cold_start.py checks more, from the source
# tree, where the routing is read from its YAML).
NOT_IN_A_BUILT_COLD_START = {
    "yaml": "PyYAML: the shipped routing is read from its JSON twin",
    "aws_lambda_powertools.utilities.batch": "Powertools' batch module",
}


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_built_functions_cold_start_loads_no_yaml_nor_powertools_batch(logical_id: str) -> None:
    loaded = loaded_at_cold_start(logical_id)
    assert "custsync.routing" in loaded
    assert {name: why for name, why in NOT_IN_A_BUILT_COLD_START.items() if name in loaded} == {}


@pytest.mark.parametrize("layer", ["layer_dir", "lambda_layer_dir"])
def test_the_built_layers_carry_the_shipped_routing_as_json_holding_the_yamls_data(layer: str) -> None:
    shipped = getattr(BuiltArtifact(ROOT), layer) / "custsync"
    source = ROOT / "layers" / "shared" / "custsync" / "routing.yaml"
    assert (shipped / "routing.yaml").read_text() == source.read_text()
    assert json.loads((shipped / "routing.json").read_text()) == routing_yaml.load(source.read_text())


def layer_modules() -> list[str]:
    layer = BuiltArtifact(ROOT).layer_dir
    modules = []
    for path in sorted((layer / "custsync").rglob("*.py")):
        parts = path.relative_to(layer).with_suffix("").parts
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_every_custsync_module_imports_from_the_built_layer_alone() -> None:
    modules = layer_modules()
    assert "custsync.observability" in modules
    failures = import_in_lambda_layout("WebhookFunction", *modules)
    assert failures == [], "\n".join(f"{f['module']}: {f['error']}" for f in failures)


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_each_functions_handler_imports_from_its_built_folder_and_the_layer(logical_id: str) -> None:
    module = TEMPLATE.function(logical_id).handler.rsplit(".", 1)[0]
    failures = import_in_lambda_layout(logical_id, module)
    assert failures == [], "\n".join(f"{f['module']}: {f['error']}" for f in failures)


@pytest.mark.parametrize("module", ["moto", "pytest", "hypothesis", "devkit", "exigo.connector"])
def test_nothing_from_the_development_virtualenv_or_other_functions_is_importable(module: str) -> None:
    (failure,) = import_in_lambda_layout("ExsalerateFunction", module)
    assert failure["error"].startswith("ModuleNotFoundError")


@pytest.mark.parametrize("module", ["boto3", "botocore", "awslambdaric"])
def test_what_the_lambda_runtime_provides_is_importable(module: str) -> None:
    assert import_in_lambda_layout("ExsalerateFunction", module) == []


def test_the_deployed_layer_holds_nothing_the_runtime_provides() -> None:
    layer = BuiltArtifact(ROOT).lambda_layer_dir
    shipped = {path.name.split("-")[0].lower().replace("_", "-") for path in layer.glob("*.dist-info")}
    assert shipped, f"{layer} has no packages: run make build"
    assert shipped.isdisjoint(runtime_provided(ROOT)), shipped & set(runtime_provided(ROOT))
    assert not [name for name in shipped if name.startswith(("mypy", "types-", "pytest", "moto")) or "stubs" in name]


UNCHECKED_HASH = 0b01  # PEP 552 flags: a hash-based .pyc used without reading its source


@dataclass(frozen=True)
class Interpreter:
    cache_tag: str
    magic: bytes

    @classmethod
    def of(cls, command: list[str]) -> Interpreter:
        code = "import sys, importlib.util; print(sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex())"
        found = subprocess.run([*command, "-c", code], capture_output=True, text=True, check=True)
        tag, magic = found.stdout.split()
        return cls(tag, bytes.fromhex(magic))


def not_compiled_for(layer: Path, python: Interpreter) -> list[str]:
    """What ``python`` would compile at each cold start in ``layer``: every module shipped as source without
    its bytecode, and every bytecode file another Python made or that would check its source. Lambda's
    ``/opt`` is read-only, so what it compiles is thrown away."""
    sources = [
        source
        for source in layer.rglob("*.py")
        if not (source.parent / "__pycache__" / f"{source.stem}.{python.cache_tag}.pyc").exists()
    ]
    expected_header = python.magic + UNCHECKED_HASH.to_bytes(4, "little")
    not_its_own = [pyc for pyc in layer.rglob("*.pyc") if pyc.read_bytes()[:8] != expected_header]
    return sorted(str(path.relative_to(layer)) for path in [*sources, *not_its_own])


def lambda_python() -> str:
    """The Python 3.13 the layer's Makefile compiles the deployed bytecode with, or "" where it found none."""
    found = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT / "layers" / "shared"), "lambda-python"],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


def test_the_deployed_layer_ships_bytecode_for_the_runtimes_python() -> None:
    python = lambda_python()
    if not python:
        pytest.skip("no Python 3.13 on this machine: make build ships the layer without bytecode, and says so")
    layer = BuiltArtifact(ROOT).lambda_layer_dir
    missing = not_compiled_for(layer, Interpreter.of([python]))
    assert missing == [], f"{len(missing)} modules Lambda would compile at each cold start, such as {missing[:3]}"


def test_the_deployed_layer_keeps_the_source_of_what_reads_it_and_of_custsync() -> None:
    layer = BuiltArtifact(ROOT).lambda_layer_dir
    assert (layer / "custsync" / "engine.py").exists(), "custsync's tracebacks show their lines"
    assert (layer / "anyio" / "_lazyimport.py").exists(), "anyio reads its own source to resolve lazy imports"


def test_the_local_runtime_runs_the_layers_bytecode_and_writes_none() -> None:
    """As in Lambda: the local layer ships its own bytecode (this machine's Python), and the runtime cannot
    add any, so a module the build left uncompiled costs its compile at every local cold start too."""
    artifact = BuiltArtifact(ROOT)
    assert not_compiled_for(artifact.layer_dir, Interpreter.of(artifact.interpreter())) == []
    before = {path: path.stat().st_mtime_ns for path in artifact.local_dir.rglob("*")}
    assert import_in_lambda_layout("WebhookFunction", *layer_modules()) == []
    after = {path: path.stat().st_mtime_ns for path in artifact.local_dir.rglob("*")}
    assert after == before


def test_the_local_runtime_runs_the_lambda_runtimes_python_where_this_machine_has_one() -> None:
    python = lambda_python()
    if not python:
        pytest.skip("no Python 3.13 on this machine: the local runtime runs this Python, and README says so")
    assert Interpreter.of(BuiltArtifact(ROOT).interpreter()) == Interpreter.of([python])


def test_pycountry_answers_from_the_built_layer_without_the_files_the_build_leaves_out() -> None:
    """The layer ships pycountry's ISO 3166 tables alone (layers/shared/Makefile, NEVER_READ): what custsync.geo asks
    of it still answers, in the interpreter laid out as Lambda's."""
    artifact = BuiltArtifact(ROOT)
    for layer in (artifact.layer_dir, artifact.lambda_layer_dir):
        shipped = {path.name for path in (layer / "pycountry" / "databases").iterdir()}
        assert shipped == {"iso3166-1.json", "iso3166-2.json"}, layer
        assert not (layer / "pycountry" / "locales").exists(), layer
    code = (
        "import os, sys; sys.path[:0] = os.environ['LAMBDA_SYS_PATH'].split(os.pathsep); "
        "from custsync.geo import country_code, region_code; "
        "print(region_code('US', 'Kentucky'), region_code('CA', None, 'ON'), country_code('Sweden'), "
        "region_code('SE', 'Stockholms län'))"
    )
    env = {"PATH": os.environ.get("PATH", ""), "LAMBDA_SYS_PATH": artifact.sys_path("WebhookFunction")}
    result = subprocess.run(
        [*artifact.interpreter(), "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, "US-KY CA-ON SE SE-AB"), result.stderr[-2000:]
