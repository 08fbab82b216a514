"""How enrolments are read with what their pages show."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from ..models import Enrolment, StandardVersion


def with_everyone_named(*, yaml: bool) -> tuple:
    """Loader options for an enrolment with its standard version and every person and organisation
    on it, in the enrolment's own query; `yaml` loads the version's YAML text, which lists need not."""
    version = joinedload(Enrolment.standard_version)
    return (
        joinedload(Enrolment.apprentice),
        version if yaml else version.defer(StandardVersion.yaml_text),
        *(
            joinedload(party)
            for party in (Enrolment.employer, Enrolment.provider, Enrolment.epao, Enrolment.tutor, Enrolment.mentor)
        ),
    )
