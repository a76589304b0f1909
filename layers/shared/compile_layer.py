"""Compiles a built layer for the Python running this script, as Lambda will import it.

Lambda's ``/opt`` is read-only: a module shipped without bytecode for the runtime's Python is compiled again
at every cold start and the result thrown away. So the layer ships its bytecode, hash-based (unzipping loses
the mtimes a timestamp ``.pyc`` is checked against), and unchecked (nothing edits a deployed layer):

- third-party packages ship bytecode in place of their source (``mod.pyc`` beside no ``mod.py``), so the
  layer stays the size it was; a package that reads its own source (``inspect.getsource``) keeps it;
- ``custsync`` keeps its source, its bytecode in ``__pycache__``, so its tracebacks show their lines.

    python3.13 compile_layer.py .aws-sam/build/SharedLayer/python --prefix /opt/python

Standard library only: it runs under whichever Python the bytecode is for.
"""

import argparse
import compileall
import re
import sys
from pathlib import Path
from py_compile import PycInvalidationMode

KEEP_SOURCE = {"custsync"}
READS_ITS_SOURCE = re.compile(rb"inspect\.getsource|getsourcelines|getsourcefile")


def keeps_source(entry: Path) -> bool:
    if entry.name in KEEP_SOURCE:
        return True
    files = [entry] if entry.is_file() else entry.rglob("*.py")
    return any(READS_ITS_SOURCE.search(path.read_bytes()) for path in files)


def compile_entry(entry: Path, layer: Path, prefix: str | None) -> bool:
    """Compile one top-level package or module; a sourceless one loses its ``.py``."""
    legacy = not keeps_source(entry)
    mode = PycInvalidationMode.UNCHECKED_HASH
    stripdir = str(layer) if prefix else None
    if entry.is_file():
        compiled = compileall.compile_file(
            str(entry), quiet=1, legacy=legacy, invalidation_mode=mode, stripdir=stripdir, prependdir=prefix
        )
    else:
        compiled = compileall.compile_dir(
            str(entry), quiet=1, legacy=legacy, invalidation_mode=mode, stripdir=stripdir, prependdir=prefix, workers=0
        )
    if compiled and legacy:
        for source in [entry] if entry.is_file() else list(entry.rglob("*.py")):
            source.unlink()
    return bool(compiled)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layer", type=Path, help="the layer's python/ folder")
    parser.add_argument("--prefix", help="where the layer is in Lambda (/opt/python), for tracebacks")
    args = parser.parse_args(argv)
    layer: Path = args.layer.resolve()
    entries = [
        entry
        for entry in sorted(layer.iterdir())
        if (entry.is_dir() and not entry.name.endswith(".dist-info")) or entry.suffix == ".py"
    ]
    failed = [entry.name for entry in entries if not compile_entry(entry, layer, args.prefix)]
    if failed:
        print(f"compile_layer: could not compile {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
