"""Every validation rule: a failing fixture, its reported line and column, and a plain message."""

import pytest
import yaml

from standard import StandardError, load_standard, load_standard_bytes, load_standard_text

# fixture -> [(line, column, words the message contains)]
BROKEN = {
    "duplicate_code": [(36, 17, "criterion code 'K1' is used twice (first on line 32)")],
    "wrong_indentation": [(40, 10, "the YAML is not well formed")],
    "unknown_key": [
        (34, 11, "criterion K2 is missing 'text'"),
        (35, 11, "unknown key 'txt' in criterion K2; expected one of: code, text"),
    ],
    "missing_text": [(45, 16, "criterion B1 has no text")],
    "missing_field": [(1, 1, "the standard is missing 'level'")],
    "bad_date": [(6, 24, "should be a date written YYYY-MM-DD, not '2024-02-30'")],
    "code_of_wrong_kind": [(39, 17, "criterion code 'K3' is listed under skills")],
    "no_met_level": [(11, 3, "at least one level with 'met: true'")],
    "duplicate_key": [(3, 1, "'title' is given twice in the standard")],
    "bad_level": [(3, 8, "the level should be a whole number of at least 2, not 'two'")],
    "bad_signer": [(26, 15, "the signer 'assessor' should be one of: apprentice, employer, provider")],
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_rule_reports_file_line_and_column(fixtures, name):
    path = fixtures / "broken" / f"{name}.yaml"
    with pytest.raises(StandardError) as caught:
        load_standard(path)
    reported = [(p.line, p.column, p.message) for p in caught.value.problems]
    assert len(reported) == len(BROKEN[name]), reported
    for (line, column, message), (want_line, want_column, words) in zip(reported, BROKEN[name], strict=True):
        assert (line, column) == (want_line, want_column)
        assert words in message
    assert str(caught.value).startswith(f"{path}:{BROKEN[name][0][0]}:{BROKEN[name][0][1]}: ")


def test_all_problems_are_reported_at_once(fixtures):
    with pytest.raises(StandardError) as caught:
        load_standard(fixtures / "broken" / "many_problems.yaml")
    lines = [p.line for p in caught.value.problems]
    assert lines == sorted(lines)
    messages = "\n".join(p.message for p in caught.value.problems)
    for words in (
        "the reference '396' is not of the form ST0000",
        "unknown key 'colour'",
        "'met' should be true or false, not 'maybe'",
        "criterion code 'S2' is listed under knowledge",
        "criterion code 'K1' is used twice",
        "at least one level with 'met: true'",
    ):
        assert words in messages


def test_the_minimal_fixture_is_valid(fixtures):
    st = load_standard(fixtures / "minimal.yaml")
    assert st.codes == ("K1", "K2", "S1", "B1")
    assert st.gateway.otj_minimum_hours == 280


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "the file is empty"),
        ("- just\n- a list\n", "the standard should be a set of 'key: value' lines"),
        ("reference: [ST0396\n", "the YAML is not well formed"),
        ("a: 1\n---\nb: 2\n", "the YAML is not well formed"),
        ("reference: \x07\n", "a character YAML does not allow"),
    ],
)
def test_files_that_are_not_a_standard_at_all(text, words):
    with pytest.raises(StandardError) as caught:
        load_standard_text(text, "x.yaml")
    assert words in str(caught.value)


def test_a_file_that_is_not_utf8_gives_its_line():
    with pytest.raises(StandardError) as caught:
        load_standard_bytes(b"reference: ST0396\ntitle: caf\xe9\n", "latin1.yaml")
    assert str(caught.value) == "latin1.yaml:2:11: the file is not UTF-8 text"


def test_a_missing_file_is_reported_not_raised(tmp_path):
    with pytest.raises(StandardError, match="cannot read the file"):
        load_standard(tmp_path / "absent.yaml")


def _minimal(fixtures) -> dict:
    return yaml.safe_load((fixtures / "minimal.yaml").read_text())


def test_duties_must_name_criteria_and_options_of_the_standard(fixtures):
    doc = _minimal(fixtures)
    doc["options"] = [{"code": "O1", "title": "Photographs"}]
    doc["duties"] = [{"code": "D1", "text": "Catalogue photographs.", "criteria": ["K1", "K9"], "options": ["O2"]}]
    with pytest.raises(StandardError) as caught:
        load_standard_text(yaml.safe_dump(doc, sort_keys=False))
    messages = [p.message for p in caught.value.problems]
    assert messages == [
        "duty D1 names criterion 'K9', which this standard does not have",
        "duty D1 names option 'O2', which this standard does not have",
    ]


def test_a_duration_range_must_be_in_order(fixtures):
    doc = _minimal(fixtures)
    doc["typical_duration"] = {"minimum_months": 21, "maximum_months": 15}
    with pytest.raises(StandardError, match="maximum_months should not be less than minimum_months"):
        load_standard_text(yaml.safe_dump(doc, sort_keys=False))


# The employer's verification of behaviours -------------------------------------------------------


def _minimal_with(fixtures, line: str | None) -> str:
    """The minimal fixture with `line` added to its gateway section (None: as it is)."""
    text = (fixtures / "minimal.yaml").read_text(encoding="utf-8")
    if line is None:
        return text
    return text.replace("gateway:\n", f"gateway:\n  {line}\n", 1)


def test_the_employer_verifies_behaviours_only_where_the_plan_says_so(fixtures):
    assert load_standard_text(_minimal_with(fixtures, None)).gateway.employer_verifies_behaviours is False
    for line, expected in [
        ("employer_verifies_behaviours: true", True),
        ("employer_verifies_behaviours: false", False),
        ("employer_verifies_behaviours:", False),  # null: as if absent
    ]:
        assert load_standard_text(_minimal_with(fixtures, line)).gateway.employer_verifies_behaviours is expected


@pytest.mark.parametrize("value", ["maybe", "'yes please'", "[true]", "1"])
def test_employer_verifies_behaviours_must_be_true_or_false(fixtures, value):
    with pytest.raises(StandardError) as caught:
        load_standard_text(_minimal_with(fixtures, f"employer_verifies_behaviours: {value}"), "x.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (19, 33)
    assert "employer_verifies_behaviours should be" in problem.message
