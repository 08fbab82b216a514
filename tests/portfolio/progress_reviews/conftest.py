"""The people whose log and reviews the page tests walk through."""

from ..progress_world import people  # noqa: F401 (a fixture)
