"""A PDF of one version of the training plan, in the export's fonts and stylesheet.

One plan is a page or two, so it is rendered in the request (the portfolio export, which can run
to hundreds of pages, goes through a job). As the export does, the document may read nothing but
the fonts, and a character the fonts cannot show is refused, named, before anything is rendered.
"""

from __future__ import annotations

import io
from typing import Any

from flask import render_template
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from ..core.domain import DomainError
from ..exports.pages import LANDSCAPE, PORTRAIT, number_pages
from ..exports.typefaces import FONT_DIR, describe, embed_fonts_everywhere, unprintable_characters


def render_plan_pdf(context: dict[str, Any]) -> bytes:
    """The PDF's bytes of the plan page's `context`; DomainError naming a character the fonts lack."""
    contents: list[tuple[int, str, str]] = []
    html = render_template(
        "training_plan/plan_pdf.html",
        font_dir=FONT_DIR,
        portrait=PORTRAIT,
        landscape=LANDSCAPE,
        contents=contents,
        **context,
    )
    if missing := unprintable_characters(html):
        raise DomainError(
            f"The training plan has the character {describe(missing[0])}, which the PDF's fonts cannot show: "
            "replace it in the plan's text to make the PDF"
        )
    embed_fonts_everywhere()
    out = io.BytesIO()
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=FONT_DIR)
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=policy, link_callback=lambda *_: None)
    if result.err:
        raise RuntimeError(f"the training plan PDF could not be rendered ({result.err} errors)")
    enrolment, plan = context["enrolment"], context["plan"]
    footer = f"{enrolment.apprentice.name} · training plan, version {plan.number}"
    return number_pages(out.getvalue(), footer, 0)
