"""Why an export could not be made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..core.domain import DomainError
from .typefaces import describe

if TYPE_CHECKING:
    from .gather import ExportFile, ExportItem


class ExportRefused(DomainError):
    """The portfolio may not be exported in its present state (a withdrawn apprenticeship)."""


class EvidenceFileProblem(DomainError):
    """An evidence file is missing from the store, or its bytes no longer match the hash on record.

    An export never carries such a file silently: before anything is sent the export is refused,
    and if the bytes turn out wrong while the ZIP streams, the stream stops before the ZIP's
    index, so what arrived is not a usable archive.
    """

    def __init__(self, item: ExportItem, evidence_file: ExportFile, problem: Literal["missing", "altered"]) -> None:
        super().__init__(
            f"Evidence {item.number} ({item.title}): the file {evidence_file.name} is {problem} in the evidence "
            f"store (SHA-256 on record {evidence_file.sha256}). Ask an administrator to run "
            "`portfolio evidence verify`."
        )
        self.sha256 = evidence_file.sha256
        self.problem = problem


class UnprintableText(DomainError):
    """Some text of the portfolio has a character the PDF's fonts have no glyph for.

    The renderer would leave it out without a word, so the PDF (and the ZIP, which holds it) is
    refused instead: a portfolio must say what its author wrote.
    """

    def __init__(self, where: str, character: str) -> None:
        super().__init__(
            f"{where} has the character {describe(character)}, which the PDF's fonts cannot show. The PDF "
            "would leave it out, so the portfolio is not exported: replace that character in the text, or "
            "ask an administrator."
        )
        self.character = character
