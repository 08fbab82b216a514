"""The evidence store checked against the records: every file an evidence file names is there with
its bytes unaltered (`portfolio evidence verify`, and the end of `portfolio restore`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from filestore import EvidenceStore, FileProblem, check_store

from ..models import EvidenceFile, StagedUpload

_EVIDENCE_USERS = select(EvidenceFile.sha256, EvidenceFile.display_name, EvidenceFile.item_id).order_by(EvidenceFile.id)


@dataclass(frozen=True)
class EvidenceCheck:
    evidence_files: int
    users: dict[str, list[str]]  # each stored file's hash: what refers to it, for messages
    problems: list[FileProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_lines(self) -> list[str]:
        """A line per missing or altered file, naming what uses it."""
        return [f"{p.kind.upper()}: {p.sha256} used by {', '.join(self.users[p.sha256])}" for p in self.problems]

    def __str__(self) -> str:
        return (
            f"Checked {len(self.users)} stored files for {self.evidence_files} evidence files: "
            f"{len(self.problems)} problems."
        )


def check_evidence_files(session: Session, store: EvidenceStore) -> EvidenceCheck:
    """Rehash every stored file an evidence file refers to."""
    rows = session.execute(_EVIDENCE_USERS).all()
    users = _evidence_users(rows)
    return EvidenceCheck(evidence_files=len(rows), users=users, problems=check_store(store, users))


def users_of_files(session: Session, hashes: Collection[str]) -> dict[str, list[str]]:
    """What refers to each of the stored files `hashes`: evidence files and staged uploads."""
    hashes = set(hashes)
    rows = session.execute(_EVIDENCE_USERS.where(EvidenceFile.sha256.in_(hashes))).all()
    users = _evidence_users(rows)
    staged = session.execute(
        select(StagedUpload.sha256, StagedUpload.display_name, StagedUpload.user_id)
        .where(StagedUpload.sha256.in_(hashes))
        .order_by(StagedUpload.id)
    )
    for sha256, name, user_id in staged:
        users.setdefault(sha256, []).append(f"{name} (kept from a failed form of user {user_id})")
    return users


def _evidence_users(rows) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for sha256, name, item_id in rows:
        users.setdefault(sha256, []).append(f"{name} (evidence item {item_id})")
    return users
