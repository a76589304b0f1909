"""A local stack that keeps running (``custsync local up``) and the file that lets other commands find it.

``custsync local up`` starts moto, the simulators and the template's resources, writes this file, and runs
until it is stopped (Ctrl-C or SIGTERM), removing the file. Every ``--local`` command reads the file: moto's
endpoint, the stage, the secrets as started (the simulators' ports) and the resources' physical names, so
``custsync local drain`` can run the functions under the emulator against the same AWS and simulators; and the
URL of its API (the webhooks and the sync API, served by ``local up`` in front of the functions).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from devkit.inputs import InputError

DEFAULT_RELATIVE = Path(".custsync") / "local-stack.json"
ENVIRONMENT_VARIABLE = "CUSTSYNC_LOCAL_STATE"


@dataclass(frozen=True)
class LocalSession:
    endpoint_url: str
    api_url: str
    stage: str
    pid: int
    secrets: dict[str, Any]
    physical: dict[str, dict[str, str]]
    credentials: dict[str, dict[str, str | None]]  # the administrator's ("") and each function role's: IAM is enforced
    log_dir: str
    state_file: str

    @property
    def directory(self) -> Path:
        """The stack's own folder (its journal, its functions' logs)."""
        return Path(self.state_file).parent

    @staticmethod
    def default_path(root: Path) -> Path:
        """``$CUSTSYNC_LOCAL_STATE``, else ``.custsync/local-stack.json`` in the project folder."""
        given = os.environ.get(ENVIRONMENT_VARIABLE)
        return Path(given) if given else root / DEFAULT_RELATIVE

    def write(self) -> None:
        path = Path(self.state_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2))
        temporary.replace(path)  # whole or not at all: a reader never sees half a file

    @classmethod
    def read(cls, path: Path) -> LocalSession:
        """The running local stack recorded in ``path``; ``InputError`` when there is none."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise InputError(
                f"no local stack is running ({path} not found): start one with `custsync local up`"
            ) from None
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: not a local stack's state ({exc})") from exc
        try:
            session = cls(**data)
        except TypeError as exc:
            raise InputError(f"{path}: not a local stack's state ({exc})") from exc
        if not _alive(session.pid):
            raise InputError(
                f"the local stack recorded in {path} is not running (pid {session.pid}): "
                "start one with `custsync local up`"
            )
        return session

    def remove(self) -> None:
        Path(self.state_file).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
