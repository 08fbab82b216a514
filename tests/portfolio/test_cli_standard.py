"""The `portfolio standard` commands: exit codes, messages, never a traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from portfolio import create_app
from standard import load_standard

FIXTURES = Path(__file__).parent.parent / "standard" / "fixtures"


@pytest.fixture
def run():
    app = create_app({"TESTING": True})
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app.cli, ["standard", *map(str, args)], catch_exceptions=False)

    return invoke


def test_validate_a_good_file(run):
    result = run("validate", FIXTURES / "minimal.yaml")
    assert result.exit_code == 0
    assert "valid. ST9001 version 1.1: 4 criteria (2 knowledge, 1 skills, 1 behaviours)" in result.output


@pytest.mark.parametrize("name", ["duplicate_code", "wrong_indentation", "unknown_key", "missing_text"])
def test_validate_a_broken_file(run, name):
    path = FIXTURES / "broken" / f"{name}.yaml"
    result = run("validate", path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"{path}:") for line in lines)
    assert all(line.split(":")[1].isdigit() and line.split(":")[2].isdigit() for line in lines)
    assert "Traceback" not in result.output


def test_validate_a_missing_file(run, tmp_path):
    result = run("validate", tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert "cannot read the file" in result.stderr


def test_show_st0396_as_json(run):
    result = run("show", "ST0396", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["reference"], data["version"]) == ("ST0396", "1.0")
    codes = [c["code"] for k in data["kinds"] for a in k["areas"] for c in a["criteria"]]
    assert len(codes) == len(set(codes)) == 49
    assert [k["kind"] for k in data["kinds"]] == ["knowledge", "skills", "behaviours"]
    assert [len(k["areas"]) for k in data["kinds"]] == [8, 6, 8]
    assert data["kinds"][1]["areas"][0] == {
        "title": "Project Coordination",
        "criteria": [
            {"code": f"S{n}", "text": data["kinds"][1]["areas"][0]["criteria"][n - 1]["text"]} for n in range(1, 5)
        ],
    }


def test_show_as_text_and_from_a_file(run):
    result = run("show", FIXTURES / "minimal.yaml")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "ST9001 Community archive assistant"
    assert "  Handling\n    S1   Handle fragile documents safely." in result.stdout


def test_show_an_unknown_reference(run):
    result = run("show", "ST9999")
    assert result.exit_code == 1
    assert "ST9999: no such file or shipped standard (shipped: ST0396)" in result.stderr


def test_import_ifate_writes_yaml_that_validates(run, tmp_path):
    out = tmp_path / "st9102.yaml"
    result = run("import-ifate", FIXTURES / "ifate" / "with_duties.json", "-o", out)
    assert result.exit_code == 0, result.output
    assert load_standard(out).reference == "ST9102"
    assert run("validate", out).exit_code == 0


def test_import_ifate_refuses_a_malformed_file(run, tmp_path):
    out = tmp_path / "bad.yaml"
    path = FIXTURES / "ifate" / "malformed.json"
    result = run("import-ifate", path, "-o", out)
    assert result.exit_code == 1
    assert result.stderr == f'{path}: level: should be a whole number of at least 2, not "three"\n'
    assert not out.exists()


def test_import_ifate_warns_of_what_it_drops_and_writes_the_rest(run, tmp_path):
    out = tmp_path / "st9305.yaml"
    path = FIXTURES / "ifate" / "dangling_mappings.json"
    result = run("import-ifate", path, "-o", out)
    assert result.exit_code == 0, result.output
    *warnings, summary = result.stderr.splitlines()
    assert warnings == [
        f"warning: {path}: duties[1].mappedKnowledge: dropped the mapping to "
        "'10000000-0000-4000-8000-00000000dead', which is not in the payload's knowledges, skills or behaviours",
        f"warning: {path}: duties[1].mappedSkills: dropped the mapping to "
        "'10000000-0000-4000-8000-00000000beef', which is not in the payload's knowledges, skills or behaviours",
        f"warning: {path}: duties[2].mappedOptions: dropped the mapping to "
        "'0f000000-0000-4000-8000-00000000cafe', which is not in the payload's options",
    ]
    assert summary.startswith(f"Wrote {out} (3 warnings above). ST9305 version 1.0: 5 criteria")
    st = load_standard(out)
    assert [(d.code, d.criteria, d.options) for d in st.duties][1:] == [
        ("D2", ("S2",), ()),
        ("D3", ("K1", "B1"), ("O1",)),
    ]


def test_import_ifate_asks_for_the_reference_and_version_the_record_lacks(run, tmp_path):
    out = tmp_path / "st9999.yaml"
    path = FIXTURES / "ifate" / "no_reference_or_version.json"
    refused = run("import-ifate", path, "-o", out)
    assert refused.exit_code == 1 and not out.exists()
    assert "referenceNumber: is missing from the record; pass --reference, e.g. --reference ST0123" in refused.stderr
    assert "pass --version, e.g. --version 1.0" in refused.stderr

    result = run("import-ifate", path, "-o", out, "--reference", "ST9999", "--version", "1.0")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    st = load_standard(out)
    assert (st.reference, st.version, st.title) == ("ST9999", "1.0", "Gallery invigilator (fictional)")


def test_import_ifate_options_win_over_the_record_with_a_warning(run, tmp_path):
    out = tmp_path / "st9102.yaml"
    path = FIXTURES / "ifate" / "with_duties.json"
    result = run("import-ifate", path, "-o", out, "--version", "1.3", "--title", "Object mover")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == [
        f"warning: {path}: title: the record says 'Collections technician (fictional)' and --title says "
        "'Object mover': using 'Object mover'",
        f"warning: {path}: version: the record says '1.2' and --version says '1.3': using '1.3'",
    ]
    assert (load_standard(out).version, load_standard(out).title) == ("1.3", "Object mover")


def test_import_ifate_to_standard_output_keeps_the_parts_of_a_criterion(run, tmp_path):
    result = run("import-ifate", FIXTURES / "ifate" / "multi_part_text.json", "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = tmp_path / "st9302.yaml"
    out.write_text(result.stdout)
    shown = run("show", out).stdout
    assert (
        "    K1   The rules that apply to a broadcast licence:\n"
        "         • the hours the station may broadcast\n"
        "         • what must be kept as a recording\n" in shown
    )
    assert "typically 30 months" in shown
    assert load_standard(out).gateway.otj_minimum_hours == 1531


def test_the_installed_console_command():
    """The `portfolio` entry point runs as a program, not only through the test runner."""
    result = subprocess.run(
        [sys.executable, "-c", "from portfolio.cli import main; main()", "standard", "show", "ST0396", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reference"] == "ST0396"


def test_standard_imports_neither_flask_nor_portfolio():
    code = (
        "import sys, standard, standard.ifate;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'portfolio')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
