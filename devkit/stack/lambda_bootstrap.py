"""Starts a Python process laid out as the Lambda runtime lays it out, and nothing else importable.

Run as ``python -I -S -B lambda_bootstrap.py run <handler>`` (the runtime interface client serving
``<handler>``) or ``python -I -S -B lambda_bootstrap.py import <module>...`` (import each module, print
one JSON line per failure, exit 1 if any failed). ``-I -S`` drop the environment's ``PYTHON*``
variables, the user's and the virtualenv's site-packages, so ``sys.path`` is only the standard
library plus what ``LAMBDA_SYS_PATH`` names, in Lambda's order: the function's folder (``/var/task``),
the layer (``/opt/python``), then what the runtime itself provides (``/var/runtime``).

Standard library only: nothing else is importable until ``sys.path`` is set.
"""

import json
import os
import runpy
import sys
import traceback


def set_path() -> None:
    task_root, layer, runtime = os.environ["LAMBDA_SYS_PATH"].split(os.pathsep)
    layer_site = os.path.join(layer, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages")
    sys.path[:] = [task_root, layer_site, layer, *sys.path, runtime]


def import_all(modules: list[str]) -> int:
    failed = 0
    for module in modules:
        try:
            __import__(module)
        except BaseException as exc:  # every failure is reported, whatever its kind
            failed += 1
            error = f"{type(exc).__name__}: {exc}"
            print(json.dumps({"module": module, "error": error, "trace": traceback.format_exc()}))
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    set_path()
    mode, *rest = argv
    if mode == "import":
        return import_all(rest)
    sys.argv = ["awslambdaric", *rest]
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
