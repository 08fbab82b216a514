"""Promises the repository makes about itself."""

from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = ci[ci.index("# The README's test command:") + 1]
    assert f"\n{command}\n" in (ROOT / "README.md").read_text()
