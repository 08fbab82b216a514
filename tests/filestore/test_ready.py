"""A store says whether it can take files now (the readiness probe asks it)."""

from __future__ import annotations

from filestore import FileSystemStore


def test_a_new_folder_is_made_and_ready(tmp_path):
    store = FileSystemStore(tmp_path / "store")
    assert store.is_ready()
    assert (tmp_path / "store").is_dir()


def test_a_path_that_is_no_folder_is_not_ready(tmp_path):
    blocker = tmp_path / "store"
    blocker.write_text("a file where the folder should be")
    assert not FileSystemStore(blocker).is_ready()
    assert not FileSystemStore(blocker / "below").is_ready()
