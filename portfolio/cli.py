"""The `portfolio` command: Flask's own commands plus the tracker's."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup

from standard import (
    Problem,
    Standard,
    StandardError,
    load_standard,
    shipped_path,
    shipped_references,
)
from standard.ifate import import_ifate

standard_cli = AppGroup("standard", help="Check, show and import apprenticeship standards.")


def init_app(app: Flask) -> None:
    app.cli.add_command(standard_cli)


def main() -> None:
    from . import create_app

    FlaskGroup(create_app=create_app, help="The apprenticeship portfolio tracker.")(prog_name="portfolio")


def _fail(problems: tuple[Problem, ...] | list[Problem]) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


def _load_or_fail(path: str) -> Standard:
    try:
        return load_standard(path)
    except StandardError as exc:
        _fail(exc.problems)


def _summary(standard: Standard) -> str:
    counts = ", ".join(f"{len(standard.criteria_of(k))} {k.value}" for k in standard.kinds)
    return (
        f"{standard.reference} version {standard.version}: {len(standard)} criteria "
        f"({counts}) in {len(standard.areas)} areas"
    )


@standard_cli.command("validate", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False))
def validate_command(file: str) -> None:
    """Check a standard's YAML FILE and report every problem with its line and column."""
    standard = _load_or_fail(file)
    click.echo(f"{file}: valid. {_summary(standard)}")


@standard_cli.command("show", with_appcontext=False)
@click.argument("reference_or_file")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_command(reference_or_file: str, as_json: bool) -> None:
    """Show the criteria tree of a shipped standard (e.g. ST0396) or of a YAML file."""
    path = Path(reference_or_file)
    if not path.is_file():
        path = shipped_path(reference_or_file)
        if path is None:
            known = ", ".join(shipped_references())
            _fail([Problem(reference_or_file, 0, 0, f"no such file or shipped standard (shipped: {known})")])
    standard = _load_or_fail(str(path))
    click.echo(json.dumps(standard_as_json(standard), indent=2) if as_json else standard_as_text(standard))


@standard_cli.command("import-ifate", with_appcontext=False)
@click.argument("json_file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "yaml_file",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the YAML ('-' for standard output).",
)
def import_ifate_command(json_file: str, yaml_file: str) -> None:
    """Turn a standard in the public standards JSON format into YAML that validates."""
    try:
        data = Path(json_file).read_bytes()
    except OSError as exc:
        _fail([Problem(json_file, 0, 0, f"cannot read the file: {exc.strerror}")])
    try:
        text = import_ifate(data, json_file)
    except StandardError as exc:
        _fail(exc.problems)
    if yaml_file == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(yaml_file).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail([Problem(yaml_file, 0, 0, f"cannot write the file: {exc.strerror}")])
    click.echo(f"Wrote {yaml_file}. {_summary(load_standard(yaml_file))}", err=True)


def standard_as_json(standard: Standard) -> dict:
    return {
        "reference": standard.reference,
        "title": standard.title,
        "level": standard.level,
        "version": standard.version,
        "status": standard.status,
        "approved_for_delivery": standard.approved_for_delivery.isoformat() if standard.approved_for_delivery else None,
        "kinds": [
            {
                "kind": kind.value,
                "areas": [
                    {
                        "title": area.title,
                        "criteria": [{"code": c.code, "text": c.text} for c in area.criteria],
                    }
                    for area in standard.areas_of(kind)
                ],
            }
            for kind in standard.kinds
        ],
        "criteria_count": len(standard),
    }


def standard_as_text(standard: Standard) -> str:
    facts = [f"Level {standard.level}", f"version {standard.version}", standard.status]
    if standard.approved_for_delivery:
        facts.append(f"approved {standard.approved_for_delivery:%d %B %Y}")
    if standard.typical_duration:
        facts.append(f"typically {standard.typical_duration}")
    lines = [f"{standard.reference} {standard.title}", ", ".join(facts)]
    for kind in standard.kinds:
        lines += ["", f"{kind.label} ({len(standard.criteria_of(kind))})"]
        for area in standard.areas_of(kind):
            lines.append(f"  {area.title}")
            for c in area.criteria:
                lines.append(
                    textwrap.fill(c.text, width=96, initial_indent=f"    {c.code:<4} ", subsequent_indent=" " * 9)
                )
    return "\n".join(lines)
