"""The standards shipped inside this package, found by reference."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from .loader import load_standard
from .model import Standard

_FOLDER = resources.files(__package__) / "standards"


def shipped_references() -> tuple[str, ...]:
    """References of the shipped standards, e.g. ("ST0396",)."""
    return tuple(sorted(p.name.removesuffix(".yaml").upper() for p in _shipped_files()))


def shipped_path(reference: str) -> Path | None:
    """The YAML file of a shipped standard, or None when it is not shipped."""
    wanted = f"{reference.strip().lower()}.yaml"
    return next((Path(str(p)) for p in _shipped_files() if p.name == wanted), None)


@cache
def shipped_standard(reference: str) -> Standard:
    """Load a shipped standard; KeyError when it is not shipped."""
    path = shipped_path(reference)
    if path is None:
        raise KeyError(reference)
    return load_standard(path)


def _shipped_files() -> list:
    return [p for p in _FOLDER.iterdir() if p.name.endswith(".yaml")]
