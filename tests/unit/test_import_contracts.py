"""The import contracts (``make imports``): the repository keeps them, and a loop or a connector reaching past the
SDK breaks them, on real packages read by import-linter."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from devkit.import_contracts import CONFIG, check, filled
from devkit.vendors import ROOT, vendor_names


def test_the_repository_keeps_its_import_contracts() -> None:
    assert check(ROOT)


def test_the_vendor_lines_come_from_the_vendor_list() -> None:
    config = "[c]\nroot_packages =\n    custsync\n    {vendors}\nsource_modules =\n  {vendor_connectors}\n"
    assert filled(config, ["acme", "zeta"]) == (
        "[c]\nroot_packages =\n    custsync\n    acme\n    zeta\nsource_modules =\n  acme.connector\n  zeta.connector\n"
    )
    assert "{vendors}" in (ROOT / CONFIG).read_text(), "the vendors would be listed by hand"
    assert vendor_names(ROOT), "no vendor to check"


def project(root: Path, package: str, modules: dict[str, str], config: str) -> Path:
    (root / "layers" / "shared" / package).mkdir(parents=True)
    (root / "layers" / "shared" / package / "__init__.py").write_text("")
    for name, source in modules.items():
        (root / "layers" / "shared" / package / f"{name}.py").write_text(textwrap.dedent(source))
    (root / "vendors.yaml").write_text("vendors: []\n")
    (root / CONFIG).write_text(textwrap.dedent(config))
    return root


ACYCLIC = """\
    [importlinter]
    root_packages =
        {package}
    contract_types =
        acyclic: devkit.import_contracts.AcyclicContract

    [importlinter:contract:no-cycles]
    name = no cycles
    type = acyclic
    packages =
        {package}
"""


def test_a_loop_through_a_third_module_breaks_the_acyclic_contract_naming_its_modules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    modules = {
        "a": "from loopy_one import b\n",
        "b": "from loopy_one import c\n",
        "c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from loopy_one import a\n",
        "d": "from loopy_one import a\n",
    }
    root = project(tmp_path, "loopy_one", modules, ACYCLIC.format(package="loopy_one"))

    assert not check(root)
    assert "import one another in a loop: loopy_one.a, loopy_one.b, loopy_one.c" in capsys.readouterr().out


def test_the_same_modules_without_the_loop_keep_it(tmp_path: Path) -> None:
    modules = {"a": "from loopy_two import b\n", "b": "from loopy_two import c\n", "c": "", "d": "import loopy_two.a\n"}
    root = project(tmp_path, "loopy_two", modules, ACYCLIC.format(package="loopy_two"))

    assert check(root)
