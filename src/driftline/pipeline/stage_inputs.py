"""What ``dvc.yaml`` declares a stage depends on, read back by the stage: its params keys and
its code deps (files and folders under ``src/``). A group stage keys each batch's outputs with them
(driftline.pipeline.reuse), so an output is reused exactly when DVC would not rerun it
for that batch alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from driftline.core.config import parse_yaml
from driftline.core.errors import DriftlineError

PIPELINE_FILE = Path("dvc.yaml")
SOURCE = "src/"


@dataclass(frozen=True)
class Declared:
    params: tuple[str, ...]
    code: tuple[Path, ...]


def declared_inputs(stage: str, root: Path = Path(".")) -> Declared:
    """The params keys and the code deps (files and folders under ``src/``) of a stage of
    ``dvc.yaml``.

    Raises
    ------
    DriftlineError
        If ``dvc.yaml`` is missing, or has no such stage.
    """
    path = root / PIPELINE_FILE
    try:
        stages = parse_yaml(path.read_text(encoding="utf-8"))["stages"]
        body = stages[stage].get("do", stages[stage])
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise DriftlineError(f"{path}: cannot read the deps of stage '{stage}' ({exc})") from exc
    params = tuple(str(key) for key in body.get("params", []) if isinstance(key, str))
    code = tuple(Path(dep) for dep in body.get("deps", []) if str(dep).startswith(SOURCE))
    return Declared(params, code)
