"""The scripts beside the moderation data (tests/data/moderation: parts.py and the
trainers), imported by their path: the folder is data, not a package."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

DATA = Path(__file__).parents[1] / "data" / "moderation"


def load(name: str, module_name: str | None = None) -> ModuleType:
    """``DATA/<name>.py`` as a module (``module_name``, default ``name``), run anew."""
    spec = importlib.util.spec_from_file_location(module_name or name, DATA / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
