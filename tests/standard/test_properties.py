"""Property-based: whatever junk arrives, the loader raises only its own error type."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standard import StandardError, load_standard_bytes, load_standard_text
from standard.ifate import import_ifate

KEYS = [
    "reference",
    "title",
    "level",
    "version",
    "status",
    "criteria",
    "knowledge",
    "skills",
    "area",
    "code",
    "text",
    "gateway",
    "judgement_scale",
    "met",
    "declarations",
    "signer",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["K1", "S1", "B1", "ST0396", "2019-02-14", "met", "employer"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=30,
)


def _loads_or_refuses(load, data):
    try:
        load(data)
    except StandardError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text(text):
    _loads_or_refuses(load_standard_text, text)


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_bytes(data):
    _loads_or_refuses(load_standard_bytes, data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_yaml_structures(document):
    _loads_or_refuses(load_standard_text, yaml.safe_dump(document))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_json_for_the_importer(document):
    import json

    _loads_or_refuses(import_ifate, json.dumps(document))
