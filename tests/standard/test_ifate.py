"""The importer from the public standards JSON: JSON -> YAML -> loader."""

import json

import pytest

from standard import Kind, StandardError, load_standard_text
from standard.ifate import import_ifate


def _round_trip(path):
    text = import_ifate(path.read_bytes(), path.name)
    return text, load_standard_text(text, "imported.yaml")


def test_a_standard_with_duties(fixtures):
    source = json.loads((fixtures / "ifate" / "with_duties.json").read_text())
    text, st = _round_trip(fixtures / "ifate" / "with_duties.json")
    assert (st.reference, st.title, st.level, st.version) == ("ST9102", "Collections technician (fictional)", 3, "1.2")
    assert st.lars_code == 9102 and str(st.typical_duration) == "18 months"
    assert st.approved_for_delivery.isoformat() == "2021-06-01"
    assert [len(st.criteria_of(k)) for k in Kind] == [4, 3, 2]
    # codes come from list position
    assert st["K3"].text == source["knowledges"][2]["detail"]
    assert st["S2"].text == source["skills"][1]["detail"]
    assert [a.title for a in st.areas] == ["Knowledge", "Skills", "Behaviours"]
    # duties keep their mappings, translated from ids to codes
    assert [d.code for d in st.duties] == ["D1", "D2", "D3"]
    assert st.duties[0].criteria == ("K1", "K2", "S1", "S2", "B1", "B2")
    assert st.duties[2].criteria == ("K4", "B2") and st.duties[2].core is False
    assert st.gateway.otj_minimum_hours is None  # published as null
    assert st.gateway.minimum_months_on_programme == 12  # started before August 2025
    assert st.source == "https://example.org/standards/collections-technician-v1-2"
    assert "keywords" not in text and "eqaProvider" not in text  # unknown keys ignored


def test_a_standard_with_options(fixtures):
    _, st = _round_trip(fixtures / "ifate" / "with_options.json")
    assert [(o.code, o.title) for o in st.options] == [("O1", "Music"), ("O2", "Dance")]
    assert st.duties[1].options == ("O1",) and st.duties[2].options == ("O2",)
    assert st.gateway.otj_minimum_hours == 312  # the string "312" became a number
    assert st.gateway.minimum_months_on_programme == 8  # starts from August 2025
    assert st.version == "2.0"  # from versionNumber


def test_a_malformed_standard_lists_every_problem(fixtures):
    with pytest.raises(StandardError) as caught:
        import_ifate((fixtures / "ifate" / "malformed.json").read_bytes(), "malformed.json")
    assert [str(p) for p in caught.value.problems] == [
        'malformed.json: level: should be a whole number, not "three"',
        "malformed.json: knowledges[1]: has no 'detail' text",
        'malformed.json: minimumHoursForCompliance: should be a whole number, not "lots"',
        "malformed.json: duties[0].mappedSkills: names '00000000-0000-4000-8000-000000000000', "
        "which is not in the standard's lists",
    ]


def test_broken_json_gives_line_and_column(fixtures):
    with pytest.raises(StandardError) as caught:
        import_ifate((fixtures / "ifate" / "not_json.json").read_bytes(), "not_json.json")
    assert str(caught.value) == "not_json.json:4:3: the JSON is not well formed: Expecting ',' delimiter"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ([1, 2], "should be a JSON object"),
        ({"referenceNumber": "ST9999", "title": "x", "level": 3, "version": "1.0"}, "no criteria are listed"),
        ({"title": "x", "level": 3, "version": "1.0", "skills": [{"detail": "Do."}]}, "referenceNumber: is missing"),
        ({"referenceNumber": "ST9999", "title": "x", "level": 3, "skills": [{"detail": "Do."}]}, "version: is missing"),
    ],
)
def test_payloads_that_are_not_a_standard(payload, words):
    with pytest.raises(StandardError, match=words):
        import_ifate(json.dumps(payload))
