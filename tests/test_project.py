"""Promises the repository makes about itself."""

from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = ci[ci.index("# The README's test command:") + 1]
    assert f"\n{command}\n" in (ROOT / "README.md").read_text()


def test_views_run_domain_actions_only_through_the_core_helper():
    views = sorted((ROOT / "portfolio").glob("*/views.py"))
    assert views, "no feature views found"
    assert [v.relative_to(ROOT).as_posix() for v in views if "except DomainError" in v.read_text()] == []


def test_every_template_filter_and_global_is_registered_in_core_templating():
    registering = ("template_global", "template_filter", "context_processor", "jinja_env.globals")
    elsewhere = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "portfolio").rglob("*.py")
        if path.name != "templating.py" and any(word in path.read_text() for word in registering)
    ]
    assert elsewhere == []


def test_the_import_contracts_cover_every_feature_package():
    import tomllib

    shared = {"core", "models", "migrations", "static"}
    features = sorted(
        p.name for p in (ROOT / "portfolio").iterdir() if (p / "__init__.py").is_file() and p.name not in shared
    )
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    core = next(c for c in contracts if c["source_modules"] == ["portfolio.core"])
    assert sorted(m.removeprefix("portfolio.") for m in core["forbidden_modules"]) == features
    by_source = {c["source_modules"][0].removeprefix("portfolio."): set(c["forbidden_modules"]) for c in contracts}
    missing = {}
    for feature in features:
        pages = {
            f"portfolio.{other}.{module}"
            for other in features
            if other != feature
            for module in ("views", "forms")
            if (ROOT / "portfolio" / other / f"{module}.py").is_file()
        }
        if gaps := pages - by_source.get(feature, set()):
            missing[feature] = sorted(gaps)
    assert missing == {}
