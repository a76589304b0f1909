"""Writes ``custsync/routing.json`` beside the shipped ``routing.yaml`` in a built layer: the same data, as JSON,
which a function reads at cold start without loading PyYAML (``custsync.routing``; it is validated there as the
YAML's data would be).

    python3 -B routing_json.py .aws-sam/build/SharedLayer/python

Run by the layer's build after the packages are installed and before their bytecode is compiled, with the
layer's own PyYAML (its pure-Python part: the build's Python need not be the runtime's). Fails the build when
the file is not YAML or holds a value JSON cannot carry (a date, say).
"""

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    layer = Path(argv[0]).resolve()
    sys.path.insert(0, str(layer))
    from custsync import routing_yaml

    source = layer / "custsync" / "routing.yaml"
    data = routing_yaml.load(source.read_text())
    source.with_suffix(".json").write_text(json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
