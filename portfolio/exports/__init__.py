"""Portfolio exports: one PDF for an assessor, and a ZIP with that PDF, every evidence file,
a manifest and checksums.

The web views and the command line both call `export_pdf` and `export_zip`, which gather the
portfolio, check it may be exported, render it and append an audit event; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from filestore import EvidenceStore

from ..core import audit
from ..models import Enrolment, User
from .archive import check_files, zip_chunks
from .errors import EvidenceFileProblem, ExportRefused, UnprintableText
from .gather import Portfolio, gather
from .pdf import render_pdf

__all__ = ["EvidenceFileProblem", "ExportRefused", "UnprintableText", "export_pdf", "export_zip"]


def export_pdf(
    session: Session, store: EvidenceStore, enrolment: Enrolment, *, actor: User | None
) -> tuple[str, bytes]:
    """(file name, PDF bytes). ExportRefused for a withdrawn enrolment; EvidenceFileProblem for a
    missing or altered image."""
    portfolio = gather(session, enrolment)
    pdf = render_pdf(portfolio, store)
    _record("export.pdf", enrolment, actor, portfolio)
    return f"{portfolio.file_stem}.pdf", pdf


def export_zip(
    session: Session, store: EvidenceStore, enrolment: Enrolment, *, actor: User | None, pdf: bytes | None = None
) -> tuple[str, Iterator[bytes]]:
    """(file name, the ZIP's bytes as they are made). Everything that can be checked is checked
    before the first byte; a file altered in place stops the stream (see `archive`). `pdf`, if
    given, is the PDF `export_pdf` just made of this portfolio in this transaction, to put in the
    ZIP rather than render the same document twice."""
    portfolio = gather(session, enrolment)
    crc32s = check_files(portfolio, store)
    pdf = pdf if pdf is not None else render_pdf(portfolio, store)
    _record("export.zip", enrolment, actor, portfolio)
    return f"{portfolio.file_stem}.zip", zip_chunks(portfolio, pdf, store, crc32s)


def _record(action: str, enrolment: Enrolment, actor: User | None, portfolio: Portfolio) -> None:
    after = {"fingerprint": portfolio.fingerprint, "items": len(portfolio.items)}
    audit.record_change(action, enrolment, actor=actor, after=after)
