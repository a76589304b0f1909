"""The built artifact the local runtime runs: what ``sam build`` made, laid out as Lambda lays it out.

- ``/var/task``: ``.aws-sam/build/<LogicalId>``, the function's built folder.
- ``/opt/python``: ``.aws-sam/local/SharedLayer/python``, the layer built by the same Makefile target
  from the same lock as the deployed one, for this machine's Python and CPU (``PLATFORM=local``).
- ``/var/runtime``: ``.aws-sam/local/runtime``, only the distributions ``layers/shared/lambda-runtime.txt``
  lists (what the Lambda runtime itself provides), linked from the development virtualenv.

``make build`` makes all three and stamps them; ``python -m devkit.stack.artifact`` is its last step.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devkit.inputs import InputError

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
STAMP = "built"


def runtime_provided(root: Path) -> dict[str, str]:
    """Distribution name -> why the Lambda runtime has it, from ``layers/shared/lambda-runtime.txt``."""
    provided = {}
    for line in (root / "layers" / "shared" / "lambda-runtime.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(" ")
            provided[name] = why.strip()
    return provided


@dataclass(frozen=True)
class BuiltArtifact:
    root: Path

    @property
    def build_dir(self) -> Path:
        return self.root / ".aws-sam" / "build"

    @property
    def local_dir(self) -> Path:
        return self.root / ".aws-sam" / "local"

    @property
    def layer_dir(self) -> Path:
        return self.local_dir / "SharedLayer" / "python"

    @property
    def lambda_layer_dir(self) -> Path:
        """The layer as it deploys (python3.13, arm64): measured, never run here."""
        return self.build_dir / "SharedLayer" / "python"

    @property
    def runtime_dir(self) -> Path:
        return self.local_dir / "runtime"

    def task_root(self, logical_id: str) -> Path:
        return self.build_dir / logical_id

    def sys_path(self, logical_id: str) -> str:
        """``LAMBDA_SYS_PATH`` for the bootstrap: task root, layer, runtime."""
        return os.pathsep.join(str(p) for p in (self.task_root(logical_id), self.layer_dir, self.runtime_dir))

    def interpreter(self) -> list[str]:
        """Python as Lambda runs it: the runtime's minor version where ``make build`` found one (its stamp
        says which), isolated, no site-packages, and unable to write bytecode (``/opt`` and ``/var/task`` are
        read-only there), so only the bytecode the build shipped is used."""
        return [self.built_python(), "-I", "-S", "-B"]

    def built_python(self) -> str:
        stamp = self.local_dir / STAMP
        try:
            python = json.loads(stamp.read_text())["python"]
        except (OSError, ValueError, KeyError, TypeError):
            return sys.executable
        return str(python)

    def python(self, *args: str) -> list[str]:
        """The command that runs the bootstrap in that interpreter."""
        return [*self.interpreter(), str(BOOTSTRAP), *args]

    def check(self, logical_id: str) -> None:
        """Raise ``InputError`` unless ``logical_id``'s built folder and the local layer exist and are current."""
        stamp = self.local_dir / STAMP
        needed = (self.task_root(logical_id), self.layer_dir, self.runtime_dir, stamp)
        missing = [str(path.relative_to(self.root)) for path in needed if not path.exists()]
        if missing:
            raise InputError(f"no built artifact ({', '.join(missing)} missing): run `make build` first")
        built_at = stamp.stat().st_mtime
        newer = [path for path in self._sources() if path.stat().st_mtime > built_at]
        if newer:
            raise InputError(
                f"the built artifact is older than {newer[0].relative_to(self.root)}: run `make build` again"
            )

    def _sources(self) -> list[Path]:
        shared = self.root / "layers" / "shared"
        layer = (p for p in shared.joinpath("custsync").rglob("*") if "__pycache__" not in p.parts)
        sources = [self.root / "template.yaml", shared / "requirements.txt", *layer]
        functions = (p for p in (self.root / "functions").rglob("*") if "__pycache__" not in p.parts)
        return [path for path in (*sources, *functions) if path.is_file()]

    def beside(self, directory: Path, logical_id: str, package: str, app_source: str) -> BuiltArtifact:
        """An artifact in ``directory`` whose one function is ``package.app`` (``app_source``), run on this
        one's layer, runtime and interpreter: for floors and test functions that are not in the template."""
        other = BuiltArtifact(directory)
        code = other.task_root(logical_id) / package
        code.mkdir(parents=True)
        (code / "__init__.py").write_text("")
        (code / "app.py").write_text(app_source)
        other.layer_dir.parent.mkdir(parents=True)
        other.layer_dir.symlink_to(self.layer_dir)
        other.runtime_dir.symlink_to(self.runtime_dir)
        (other.local_dir / STAMP).write_text((self.local_dir / STAMP).read_text())
        return other

    # -- what make build runs last -----------------------------------------------------------------
    def make_runtime(self, python: str) -> None:
        """``/var/runtime``: the provided distributions at this virtualenv's versions, for ``python``: linked
        from here when it is this interpreter, else installed for it (the runtime's minor version)."""
        if self.runtime_dir.exists():
            shutil.rmtree(self.runtime_dir)
        self.runtime_dir.mkdir(parents=True)
        names = list(runtime_provided(self.root))
        if Path(python).resolve() == Path(sys.executable).resolve():
            for name in names:
                for top in _top_level(name):
                    (self.runtime_dir / top.name).symlink_to(top)
            return
        pins = [f"{name}=={importlib.metadata.version(name)}" for name in names]
        install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        subprocess.run([*install, "--only-binary=:all:", "--target", str(self.runtime_dir), *pins], check=True)

    def stamp(self, python: str) -> None:
        (self.local_dir / STAMP).write_text(json.dumps({"built_by": "make build", "python": python}) + "\n")


def _top_level(distribution: str) -> set[Path]:
    """The installed top-level packages, modules and extensions of ``distribution`` (and its .dist-info)."""
    dist = importlib.metadata.distribution(distribution)
    tops = set()
    for file in dist.files or ():
        first = file.parts[0]
        if first.endswith(".data") or first == ".." or first == "__pycache__":
            continue
        tops.add(Path(str(dist.locate_file(first))))
    return tops


def size_report(layer: Path, largest: int = 5) -> str:
    """Total unzipped size and the largest top-level packages of a built layer."""
    sizes: dict[str, int] = {}
    for entry in layer.iterdir():
        if entry.name.endswith(".dist-info"):
            continue
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes[entry.name] = sum(p.stat().st_size for p in files)
    total = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    top = sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:largest]
    listed = ", ".join(f"{name} {size / 2**20:.1f}" for name, size in top)
    return f"{layer}: {total / 2**20:.1f} MiB unzipped; largest (MiB): {listed}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the local runtime's last step of make build")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the local runtime runs")
    args = parser.parse_args(argv)
    artifact = BuiltArtifact(Path.cwd())
    artifact.make_runtime(args.python)
    artifact.stamp(args.python)
    print(size_report(artifact.lambda_layer_dir))
    version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"local runtime: Python {version.stdout.strip()} ({args.python})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
