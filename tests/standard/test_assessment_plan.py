"""The assessment plan's methods and grades, held in the standard's YAML: read, checked, and
reported where a problem is."""

from __future__ import annotations

import pytest

from standard import StandardError, load_standard_text, shipped_standard

from .conftest import FIXTURES

MINIMAL = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")

PLAN = """
assessment:
  plan: ST9001/AP02
  methods:
    - code: observation
      name: Observation with questions
      grades:
        - {name: Fail, pass: false}
        - {name: Pass, pass: true}
    - code: discussion
      name: Professional discussion underpinned by a portfolio
      grades:
        - {name: Fail, pass: false}
        - {name: Pass, pass: true}
        - {name: Distinction, pass: true}
  overall:
    every_method_must_pass: true
    rule: A distinction in the discussion and a pass in the observation give a distinction.
    grades:
      - {name: Fail, pass: false}
      - {name: Pass, pass: true}
      - {name: Distinction, pass: true}
"""


def with_assessment(section: str) -> str:
    return MINIMAL + section


def problems(section: str) -> list[tuple[int, int, str]]:
    with pytest.raises(StandardError) as caught:
        load_standard_text(with_assessment(section), "plan.yaml")
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def line_of(text: str, words: str) -> int:
    """The line of `with_assessment(text)` on which `words` first appear."""
    whole = with_assessment(text)
    return whole[: whole.index(words)].count("\n") + 1


def test_a_standard_without_the_section_has_no_plan():
    assert load_standard_text(MINIMAL).assessment is None


def test_the_methods_and_grades_are_read_in_order():
    plan = load_standard_text(with_assessment(PLAN)).assessment
    assert plan is not None and plan.plan == "ST9001/AP02"
    assert [m.code for m in plan.methods] == ["observation", "discussion"]
    assert [(g.name, g.passed) for g in plan.method("discussion").grades] == [
        ("Fail", False),
        ("Pass", True),
        ("Distinction", True),
    ]
    assert plan.grade("Distinction").passed and not plan.grade("Fail").passed
    assert plan.grade("Merit") is None and plan.method("interview") is None
    assert plan.every_method_must_pass and plan.rule.startswith("A distinction")
    assert plan.fully_confirmed and plan.unconfirmed == ()


def test_every_method_need_not_pass_where_the_plan_says_so():
    plan = load_standard_text(
        with_assessment(PLAN.replace("every_method_must_pass: true", "every_method_must_pass: false"))
    )
    assert plan.assessment.every_method_must_pass is False


def test_what_is_not_confirmed_is_marked_and_needs_a_note():
    unconfirmed = PLAN.replace(
        "      name: Observation with questions\n", "      name: Observation with questions\n      confirmed: false\n"
    )
    found = problems(unconfirmed)
    assert found == [(line_of(unconfirmed, "plan: ST9001"), 3, found[0][2])]
    assert "marks Observation with questions as not confirmed: add a 'note'" in found[0][2]
    noted = unconfirmed.replace("  plan: ST9001/AP02\n", "  plan: ST9001/AP02\n  note: To be checked against AP02.\n")
    plan = load_standard_text(with_assessment(noted)).assessment
    assert not plan.fully_confirmed and plan.unconfirmed == ("Observation with questions",)
    assert plan.note == "To be checked against AP02."
    assert not plan.method("observation").confirmed and plan.method("discussion").confirmed


def test_a_grade_list_needs_a_pass_and_a_fail():
    all_pass = PLAN.replace(
        "        - {name: Fail, pass: false}\n        - {name: Pass, pass: true}\n    - code: discussion",
        "        - {name: Pass, pass: true}\n    - code: discussion",
    )
    [(line, column, message)] = problems(all_pass)
    assert line == line_of(all_pass, "        - {name: Pass, pass: true}\n    - code: discussion") and column == 9
    assert (
        "the grades of assessment method observation need at least one grade with 'pass: true' and one with 'pass: false'"
        in message
    )


def test_codes_and_grade_names_are_unique_and_codes_are_words():
    twice = PLAN.replace("code: discussion", "code: observation").replace(
        "        - {name: Distinction, pass: true}\n  overall", "        - {name: Pass, pass: false}\n  overall"
    )
    messages = [message for _, _, message in problems(twice)]
    assert any("the grade in the grades of assessment method observation 'Pass' is used twice" in m for m in messages)
    assert any("assessment method code 'observation' is used twice" in m for m in messages)
    bad_code = PLAN.replace("code: discussion", "code: Discussion 2")
    [(line, column, message)] = problems(bad_code)
    assert (line, column) == (line_of(bad_code, "code: Discussion 2"), 13)
    assert "an assessment method code 'Discussion 2' is not of the form lower-case words joined by _" in message


def test_missing_and_unknown_keys_are_reported_where_they_are():
    broken = PLAN.replace(
        "      name: Observation with questions\n", "      title: Observation with questions\n"
    ).replace("    every_method_must_pass: true\n", "    every_method_must_pass: sometimes\n")
    messages = [message for _, _, message in problems(broken)]
    assert "assessment method observation is missing 'name'" in messages
    assert (
        "unknown key 'title' in assessment method observation; expected one of: code, name, grades, confirmed"
        in messages
    )
    assert "'every_method_must_pass' should be true or false, not 'sometimes'" in messages
    no_overall = PLAN.split("  overall:")[0]
    assert [m for _, _, m in problems(no_overall)] == ["the assessment is missing 'overall'"]
    no_methods = "\nassessment:\n  methods: []\n  overall:\n    grades:\n      - {name: Fail, pass: false}\n      - {name: Pass, pass: true}\n"
    assert [m for _, _, m in problems(no_methods)] == ["the assessment methods should not be empty"]


def test_a_grade_name_fits_what_the_portfolio_stores():
    long = PLAN.replace("{name: Distinction, pass: true}\n  overall", "{name: " + "D" * 61 + ", pass: true}\n  overall")
    [(_, _, message)] = problems(long)
    assert "is longer than 60 characters" in message


def test_st0396_ships_its_plan_marked_to_be_completed():
    """ST0396/AP01's methods and grades were not found in any source at hand: the file says so."""
    plan = shipped_standard("ST0396").assessment
    assert plan is not None and plan.plan == "ST0396/AP01"
    assert not plan.fully_confirmed and not plan.confirmed
    assert "not found in any source at hand" in plan.note
    assert all(not method.confirmed and "to be completed" in method.name for method in plan.methods)
    assert [g.name for g in plan.grades if g.passed] and [g.name for g in plan.grades if not g.passed] == ["Fail"]
