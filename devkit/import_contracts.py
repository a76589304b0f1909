"""``make imports``: the import contracts of ``.importlinter``, checked by import-linter on the layer, the devkit
and every function folder.

The contracts that name vendors say ``{vendors}`` or ``{vendor_connectors}``: they are filled in here from
``vendors.yaml``, so a new vendor is checked without an edit. import-linter 2.5 has no contract against cycles;
``acyclic`` (``AcyclicContract``) is this project's: no module of the named packages reaches itself.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.cli import lint_imports

from devkit.vendors import ROOT, vendor_names

CONFIG = ".importlinter"
# Where the layer's and the functions' packages are found, as on the Lambda runtime (and in pytest).
SOURCE_PATHS = ("layers/shared", "functions", ".")


def filled(config: str, vendors: Sequence[str]) -> str:
    """``config`` with each ``{vendors}`` and ``{vendor_connectors}`` as the vendors' lines (one a line, indented
    as the placeholder is)."""
    lines: list[str] = []
    for line in config.splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == "{vendors}":
            lines.extend(f"{indent}{vendor}" for vendor in vendors)
        elif stripped == "{vendor_connectors}":
            lines.extend(f"{indent}{vendor}.connector" for vendor in vendors)
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def check(root: Path = ROOT, vendors: Sequence[str] | None = None) -> bool:
    """Whether every contract holds (import-linter prints its report)."""
    config = filled((root / CONFIG).read_text(), vendor_names(root) if vendors is None else vendors)
    path = list(sys.path)
    sys.path[:0] = [str(root / source) for source in SOURCE_PATHS]
    try:
        with tempfile.TemporaryDirectory() as directory:
            filled_config = Path(directory, CONFIG)
            filled_config.write_text(config)
            return lint_imports(config_filename=str(filled_config), no_cache=True) == 0
    finally:
        sys.path[:] = path


class AcyclicContract(Contract):
    """No import cycle among the modules of ``packages`` (their descendants included), direct or through others."""

    type_name = "acyclic"

    packages = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        # import-linter swaps each field for its parsed value on the instance; mypy sees the field.
        names = [str(package.name) for package in self.packages]  # type: ignore[attr-defined]
        modules = {m for name in names for m in (name, *graph.find_descendants(name))}
        cycles = [sorted(cycle) for cycle in _cycles(modules, graph)]
        return ContractCheck(kept=not cycles, warnings=[], metadata={"cycles": sorted(cycles)})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"These modules import one another in a loop: {', '.join(cycle)}")
            output.new_line()


def _cycles(modules: set[str], graph: grimp.ImportGraph) -> Iterator[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def imported(module: str) -> Iterable[str]:
        return sorted(m for m in graph.find_modules_directly_imported_by(module) if m in modules)

    for start in sorted(modules):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(imported(start)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, pending = work[-1]
            following = next(pending, None)
            if following is not None:
                if following not in index:
                    index[following] = low[following] = len(index)
                    stack.append(following)
                    on_stack.add(following)
                    work.append((following, iter(imported(following))))
                elif following in on_stack:
                    low[module] = min(low[module], index[following])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    yield component


def main() -> int:
    return 0 if check() else 1


if __name__ == "__main__":
    raise SystemExit(main())
