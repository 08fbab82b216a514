from __future__ import annotations

from pathlib import Path

import pytest

from filestore import FileSystemStore


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> FileSystemStore:
    return FileSystemStore(root)
