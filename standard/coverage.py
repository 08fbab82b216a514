"""Roll a status per criterion up into counts and fractions per area, per kind and overall."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import Kind, Standard


class Status(enum.IntEnum):
    """How far a criterion has got; each status includes the ones below it."""

    NONE = 0
    EVIDENCED = 1
    ACCEPTED = 2
    MET = 3

    @property
    def label(self) -> str:
        return {0: "No evidence", 1: "Evidenced", 2: "Accepted", 3: "Met"}[self.value]


@dataclass(frozen=True, slots=True)
class Tally:
    """How many criteria of a group are at each status."""

    total: int
    exactly: Mapping[Status, int] = field(default_factory=dict)

    def at_least(self, status: Status) -> int:
        return sum(n for s, n in self.exactly.items() if s >= status)

    def fraction(self, status: Status) -> float:
        """Share of the group at `status` or beyond (0.0 for an empty group)."""
        return self.at_least(status) / self.total if self.total else 0.0

    def percent(self, status: Status) -> int:
        """Whole percent at `status` or beyond, rounded down so 100 means all of them."""
        return self.at_least(status) * 100 // self.total if self.total else 0


@dataclass(frozen=True, slots=True)
class Coverage:
    overall: Tally
    by_kind: Mapping[Kind, Tally]
    by_area: Mapping[tuple[Kind, str], Tally]
    statuses: Mapping[str, Status]

    def status_of(self, code: str) -> Status:
        return self.statuses[code]


def roll_up(standard: Standard, statuses: Mapping[str, Status]) -> Coverage:
    """Count the criteria of `standard` by status; codes missing from `statuses` count as NONE.

    Raises ValueError for a code the standard does not have, since that means the caller
    mixed up standards.
    """
    unknown = sorted(set(statuses) - set(standard.codes))
    if unknown:
        raise ValueError(f"not criteria of {standard.reference}: {', '.join(unknown)}")
    full = {c.code: Status(statuses.get(c.code, Status.NONE)) for c in standard}

    def tally(codes: list[str]) -> Tally:
        counts = dict.fromkeys(Status, 0)
        for code in codes:
            counts[full[code]] += 1
        return Tally(total=len(codes), exactly=counts)

    by_area = {(area.kind, area.title): tally([c.code for c in area.criteria]) for area in standard.areas}
    by_kind = {kind: tally([c.code for c in standard.criteria_of(kind)]) for kind in standard.kinds}
    return Coverage(overall=tally(list(full)), by_kind=by_kind, by_area=by_area, statuses=full)
