"""The importer from the public standards JSON: JSON -> YAML -> loader."""

import json
import uuid

import pytest

from standard import Duration, Kind, StandardError, load_standard_text
from standard.ifate import import_ifate


def _import(fixtures, name, **given):
    path = fixtures / "ifate" / name
    imported = import_ifate(path.read_bytes(), name, **given)
    return imported, load_standard_text(imported.text, "imported.yaml")


def _warnings(imported):
    return [str(w) for w in imported.warnings]


def test_a_standard_with_duties(fixtures):
    source = json.loads((fixtures / "ifate" / "with_duties.json").read_text())
    imported, st = _import(fixtures, "with_duties.json")
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
    assert st.gateway.minimum_months_on_programme is None  # the funding rules of the start date set it
    assert st.source == "https://example.org/standards/collections-technician-v1-2"
    # unknown keys (keywords, eqaProvider, createdDate...) are ignored without a word
    assert "keywords" not in imported.text and "eqaProvider" not in imported.text
    assert imported.warnings == ()


def test_a_standard_with_options(fixtures):
    imported, st = _import(fixtures, "with_options.json")
    assert [(o.code, o.title) for o in st.options] == [("O1", "Music"), ("O2", "Dance")]
    assert st.duties[1].options == ("O1",) and st.duties[2].options == ("O2",)
    assert st.gateway.otj_minimum_hours == 312  # the string "312" became a number
    assert st.gateway.minimum_months_on_programme is None
    assert st.version == "2.0"  # from versionNumber
    assert imported.warnings == ()


def test_only_skills_and_unknown_keys_everywhere(fixtures):
    """No knowledges or behaviours lists at all; extra keys on the record, its KSBs and its duties."""
    imported, st = _import(fixtures, "skills_only.json")
    assert [c.code for c in st] == ["S1", "S2", "S3"]
    assert st.criteria_of(Kind.KNOWLEDGE) == () and st.criteria_of(Kind.BEHAVIOURS) == ()
    assert st["S2"].text == "Take payments in cash and by card and give the right change."
    assert st.level == 2  # published as the string "2"
    # the duty names one id in capitals: ids are matched regardless of case
    assert st.duties[0].criteria == ("S1", "S2", "S3")
    assert st.typical_duration is None  # typicalDuration is not published
    assert "sortOrder" not in imported.text and "versionLog" not in imported.text
    assert imported.warnings == ()


def test_options_named_by_every_field_and_mapped_by_id_and_by_title(fixtures):
    imported, st = _import(fixtures, "options_named_every_way.json")
    # title, optionTitle, name and optionName; the fifth option has an id and no title at all
    assert [(o.code, o.title) for o in st.options] == [
        ("O1", "Thatching"),
        ("O2", "Dry stone walling"),
        ("O3", "Hedge laying"),
        ("O4", "Wheelwrighting"),
    ]
    by_code = {d.code: d.options for d in st.duties}
    assert by_code == {
        "D1": (),
        "D2": ("O1",),  # by optionId
        "D3": ("O2",),  # by title, written in other case and spacing
        "D4": ("O3", "O4"),  # by id, by title; the untitled option's mapping is dropped
    }
    assert _warnings(imported) == [
        "options_named_every_way.json: options[4]: has no title (none of title, optionTitle, name, optionName): "
        "O5 is left out",
        "options_named_every_way.json: duties[3].mappedOptions: dropped the mapping to "
        "'0a000000-0000-4000-8000-0000000000o5', which was left out above",
    ]


def test_options_as_plain_strings(fixtures):
    imported, st = _import(fixtures, "options_as_strings.json")
    assert [(o.code, o.title) for o in st.options] == [("O1", "Sound"), ("O2", "Lighting")]
    assert [(d.code, d.options, d.criteria) for d in st.duties] == [
        ("D1", ("O1",), ("S1", "S2")),
        ("D2", ("O2",), ("S1", "S3")),  # mapped as "LIGHTING"
    ]
    assert st.version == "2.1" and st.typical_duration == Duration(20, 20)
    assert imported.warnings == ()


def test_a_duty_mapping_ids_not_in_the_payload_is_kept_without_them(fixtures):
    imported, st = _import(fixtures, "dangling_mappings.json")
    assert [(d.code, d.criteria, d.options) for d in st.duties] == [
        ("D1", ("K1", "K2", "S1", "B1"), ()),
        ("D2", ("S2",), ()),
        ("D3", ("K1", "B1"), ("O1",)),
    ]
    assert len(st) == 5  # every criterion is imported
    assert _warnings(imported) == [
        "dangling_mappings.json: duties[1].mappedKnowledge: dropped the mapping to "
        "'10000000-0000-4000-8000-00000000dead', which is not in the payload's knowledges, skills or behaviours",
        "dangling_mappings.json: duties[1].mappedSkills: dropped the mapping to "
        "'10000000-0000-4000-8000-00000000beef', which is not in the payload's knowledges, skills or behaviours",
        "dangling_mappings.json: duties[2].mappedOptions: dropped the mapping to "
        "'0f000000-0000-4000-8000-00000000cafe', which is not in the payload's options",
    ]


def test_without_reference_or_version_the_import_asks_for_them(fixtures):
    with pytest.raises(StandardError) as caught:
        _import(fixtures, "no_reference_or_version.json")
    assert [str(p) for p in caught.value.problems] == [
        "no_reference_or_version.json: referenceNumber: is missing from the record; "
        "pass --reference, e.g. --reference ST0123",
        "no_reference_or_version.json: version: is missing from the record (neither 'version' nor "
        "'versionNumber' is given); pass --version, e.g. --version 1.0",
    ]


def test_the_reference_and_version_given_stand_in_for_the_record(fixtures):
    imported, st = _import(fixtures, "no_reference_or_version.json", reference="ST9999", version="1.0")
    assert (st.reference, st.version, st.title) == ("ST9999", "1.0", "Gallery invigilator (fictional)")
    assert [c.code for c in st] == ["K1", "S1", "B1"]
    assert st.gateway.otj_minimum_hours == 278
    assert imported.warnings == ()


def test_what_is_given_wins_over_the_record_with_a_warning(fixtures):
    imported, st = _import(fixtures, "with_duties.json", reference="ST9103", version="1.2", title="Object mover")
    assert (st.reference, st.version, st.title) == ("ST9103", "1.2", "Object mover")
    assert _warnings(imported) == [  # the version given is the record's: nothing to say
        "with_duties.json: referenceNumber: the record says 'ST9102' and --reference says 'ST9103': using 'ST9103'",
        "with_duties.json: title: the record says 'Collections technician (fictional)' and --title says "
        "'Object mover': using 'Object mover'",
    ]


def test_a_reference_not_of_our_form_is_refused(fixtures):
    with pytest.raises(StandardError, match="the reference: 'st 99' is not of the form ST0000; pass --reference"):
        _import(fixtures, "with_duties.json", reference="st 99")


@pytest.mark.parametrize(
    ("name", "hours"),
    [("multi_part_text.json", 1531), ("dangling_mappings.json", None), ("skills_only.json", None)],
)
def test_the_minimum_hours_for_compliance(fixtures, name, hours):
    """Published as "1,531", as null, or as "" (the last two: not published)."""
    imported, st = _import(fixtures, name)
    assert st.gateway.otj_minimum_hours == hours
    assert not any("minimumHoursForCompliance" in w for w in _warnings(imported))


def test_a_ksb_of_several_parts_keeps_a_line_for_each(fixtures):
    imported, st = _import(fixtures, "multi_part_text.json")
    assert st["K1"].text == (
        "The rules that apply to a broadcast licence:\n"
        "• the hours the station may broadcast\n"
        "• what must be kept as a recording\n"
        "• how complaints are answered"
    )
    # bullets run together on one line become lines of their own
    assert st["K2"].text.splitlines() == [
        "How a programme is planned.",
        "• Choosing a subject",
        "• Booking guests",
        "• Writing a running order",
    ]
    # CRLF and blank lines; spaces within a line are still collapsed
    assert st["S1"].text == "Present a live programme.\nRecord and edit a pre-recorded item.\nKeep the programme log."
    assert st["K3"].text == "How the studio's equipment is set up and checked."
    # the YAML holds them as literal blocks a person can read and edit
    assert "      text: |-\n        The rules that apply to a broadcast licence:\n        • the hours" in imported.text
    assert st.typical_duration == Duration(30, 30)  # typicalDuration "30"
    assert imported.warnings == ()


def test_the_loader_keeps_the_lines_of_a_criterion_written_by_hand(fixtures):
    text = (fixtures / "minimal.yaml").read_text()
    edited = text.replace(
        "text: Handle fragile documents safely.",
        "text: |\n            Handle fragile   documents:\n\n            - with gloves\n            - on a cradle\n",
    )
    assert edited != text
    st = load_standard_text(edited)
    assert st["S1"].text == "Handle fragile documents:\n- with gloves\n- on a cradle"
    # a title is still one line, however it is written
    assert load_standard_text(edited.replace("title: ", "title: |\n  ", 1)).title == st.title


def test_a_malformed_standard_is_refused_for_what_it_cannot_do_without(fixtures):
    """The level is needed; everything else wrong in the file would only be left out."""
    with pytest.raises(StandardError) as caught:
        import_ifate((fixtures / "ifate" / "malformed.json").read_bytes(), "malformed.json")
    assert [str(p) for p in caught.value.problems] == [
        'malformed.json: level: should be a whole number of at least 2, not "three"',
    ]


def test_what_is_unsound_is_left_out_with_a_warning(fixtures):
    payload = json.loads((fixtures / "ifate" / "malformed.json").read_text())
    payload["level"] = 3
    payload["approvedForDelivery"] = "soon"
    imported = import_ifate(json.dumps(payload), "malformed.json")
    st = load_standard_text(imported.text)
    assert [c.code for c in st.criteria_of(Kind.KNOWLEDGE)] == ["K1", "K3", "K4"]  # K2 has no text
    assert st.duties[0].criteria == ("K1", "S1", "S2", "B1", "B2")
    assert st.gateway.otj_minimum_hours is None and st.approved_for_delivery is None
    assert _warnings(imported) == [
        'malformed.json: approvedForDelivery: should be a date such as 2019-02-14, not "soon": left out',
        "malformed.json: knowledges[1]: has no 'detail' text: K2 is left out",
        'malformed.json: minimumHoursForCompliance: should be a whole number of at least 1, not "lots": left out',
        "malformed.json: duties[0].mappedKnowledge: dropped the mapping to "
        "'584771e6-24a4-46b1-80b6-2c138e643394', which was left out above",
        "malformed.json: duties[0].mappedSkills: dropped the mapping to "
        "'00000000-0000-4000-8000-000000000000', which is not in the payload's knowledges, skills or behaviours",
    ]


def test_broken_json_gives_line_and_column(fixtures):
    with pytest.raises(StandardError) as caught:
        import_ifate((fixtures / "ifate" / "not_json.json").read_bytes(), "not_json.json")
    assert str(caught.value) == "not_json.json:4:3: the JSON is not well formed: Expecting ',' delimiter"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ([1, 2], "should be a JSON object"),
        ({"referenceNumber": "ST9999", "title": "x", "level": 3, "version": "1.0"}, "no criteria with text are listed"),
        (
            {"referenceNumber": "ST9999", "title": "x", "level": 3, "version": "1.0", "skills": [{"detail": " "}]},
            "no criteria with text are listed",
        ),
        ({"title": "x", "level": 3, "version": "1.0", "skills": [{"detail": "Do."}]}, "pass --reference"),
        ({"referenceNumber": "ST9999", "level": 3, "version": "1.0", "skills": [{"detail": "Do."}]}, "pass --title"),
        ({"referenceNumber": "ST9999", "title": "x", "level": 3, "skills": [{"detail": "Do."}]}, "pass --version"),
    ],
)
def test_payloads_that_are_not_a_standard(payload, words):
    with pytest.raises(StandardError, match=words):
        import_ifate(json.dumps(payload))


def test_a_very_large_standard():
    """150 knowledge, 150 skills and 60 behaviours; 40 duties each mapping 20 of them."""
    counts = {"knowledges": 150, "skills": 150, "behaviours": 60}
    id_fields = {"knowledges": "knowledgeId", "skills": "skillId", "behaviours": "behaviourId"}
    letters = {"knowledges": "K", "skills": "S", "behaviours": "B"}
    payload = {"referenceNumber": "ST9998", "title": "Everything technician (fictional)", "level": 7, "version": "3.0"}
    every = []  # (id, code) across the three lists, in order
    for key, count in counts.items():
        items = []
        for n in range(1, count + 1):
            guid = str(uuid.UUID(int=len(every) + 1))
            items.append({id_fields[key]: guid, "detail": f"Invented statement {letters[key]}{n}."})
            every.append((guid, f"{letters[key]}{n}"))
        payload[key] = items
    mapped_fields = {"K": "mappedKnowledge", "S": "mappedSkills", "B": "mappedBehaviour"}
    payload["duties"] = []
    for d in range(40):
        duty = {"dutyId": str(uuid.UUID(int=10_000 + d)), "dutyDetail": f"Invented duty {d}.", "isThisACoreDuty": 1}
        for i in range(20):
            guid, code = every[(d * 9 + i) % len(every)]
            duty.setdefault(mapped_fields[code[0]], []).append(guid)
        payload["duties"].append(duty)
    imported = import_ifate(json.dumps(payload), "large.json")
    st = load_standard_text(imported.text)
    assert [len(st.criteria_of(k)) for k in Kind] == [150, 150, 60]
    assert st.codes == tuple(code for _, code in every)
    assert st["B60"].text == "Invented statement B60."
    assert len(st.duties) == 40
    for d, duty in enumerate(st.duties):  # each keeps its 20 mappings
        assert sorted(duty.criteria) == sorted(every[(d * 9 + i) % len(every)][1] for i in range(20))
    assert imported.warnings == ()
