"""Cohort dashboards for tutors and employers, with CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_login import current_user

from ..core import clock
from ..core.access import roles_required
from ..core.listing import LAST_PAGE, id_arg, search_text
from ..core.spreadsheets import neutralise
from ..extensions import db
from ..models import EnrolmentStatus, Role
from .queries import (
    COHORT_ROLES,
    CohortFilters,
    CohortOptions,
    CohortRow,
    CohortSort,
    cohort_options,
    cohort_page,
    cohort_rows,
)

bp = Blueprint("cohort", __name__, template_folder="templates")


@dataclass(frozen=True)
class CohortQuery:
    """The table's filters and sort as read from the query string; anything unknown is ignored."""

    filters: CohortFilters
    sort: CohortSort
    descending: bool

    @classmethod
    def from_request(cls, options: CohortOptions) -> CohortQuery:
        args = request.args
        statuses = {s.value: s for s in EnrolmentStatus}
        sorts = {s.value: s for s in CohortSort}
        sort = sorts.get(args.get("sort", ""), CohortSort.APPRENTICE)
        order = args.get("order", "")
        filters = CohortFilters(
            employer_id=_chosen(id_arg("employer"), options.employers),
            tutor_id=_chosen(id_arg("tutor"), options.tutors),
            status=statuses.get(args.get("status", "")),
            search=search_text("q"),
        )
        descending = order == "desc" if order in ("asc", "desc") else sort.descending_by_default
        return cls(filters, sort, descending)

    def args(self, **changes) -> dict[str, str | int]:
        """The query string of this view with `changes`, leaving out what is empty or the default."""
        f = self.filters
        values: dict[str, str | int | None] = {
            "q": f.search,
            "employer": f.employer_id,
            "tutor": f.tutor_id,
            "status": f.status.value if f.status else None,
            "sort": self.sort.value if self.sort is not CohortSort.APPRENTICE else None,
            "order": self.order if self.descending != self.sort.descending_by_default else None,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value not in (None, "")}

    @property
    def order(self) -> str:
        return "desc" if self.descending else "asc"

    @property
    def aria_sort(self) -> str:
        return "descending" if self.descending else "ascending"

    def sort_args(self, sort: CohortSort) -> dict[str, str | int]:
        """The query string that sorts by `sort`: the other way round if it is the current sort."""
        descending = not self.descending if sort is self.sort else sort.descending_by_default
        order = None if descending == sort.descending_by_default else ("desc" if descending else "asc")
        return self.args(sort=None if sort is CohortSort.APPRENTICE else sort.value, order=order)


@bp.route("/cohort")
@roles_required(*COHORT_ROLES)
def index():
    options = cohort_options(db.session, current_user)
    query = CohortQuery.from_request(options)
    page = cohort_page(
        db.session,
        current_user,
        query.filters,
        query.sort,
        descending=query.descending,
        page=min(max(request.args.get("page", 1, type=int), 1), LAST_PAGE),
        per_page=current_app.config["PAGE_SIZE"],
        today=clock.today(),
    )
    return render_template(
        "cohort/index.html",
        page=page,
        query=query,
        options=options,
        sorts=CohortSort,
        statuses=list(EnrolmentStatus),
        is_tutor=current_user.role is Role.TUTOR,
        figure=figure,
    )


@bp.route("/cohort.csv", endpoint="csv")
@roles_required(*COHORT_ROLES)
def csv_download():
    options = cohort_options(db.session, current_user)
    query = CohortQuery.from_request(options)
    today = clock.today()
    rows = cohort_rows(db.session, current_user, query.filters, query.sort, descending=query.descending, today=today)
    response = Response(stream_with_context(csv_lines(rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="cohort-{today.isoformat()}.csv"'
    return response


CSV_HEADER = (
    "Apprentice",
    "Employer",
    "Tutor",
    "Status",
    "Start date",
    "Planned end date",
    "Criteria",
    "Criteria evidenced",
    "Criteria accepted",
    "Criteria judged met",
    "Evidence awaiting review",
    "Off-the-job hours logged",
    "Off-the-job hours approved",
    "Off-the-job hours planned",
    "Off-the-job hours expected by today",
    "Behind off-the-job pace",
    "Last progress review",
    "Next progress review due",
    "Progress review overdue",
)


def csv_lines(rows: Iterable[CohortRow]) -> Iterator[str]:
    """The header, then one CSV line per row, as the rows arrive (UTF-8 with a BOM, for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells) -> str:
        writer.writerow([neutralise(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(CSV_HEADER)
    for row in rows:
        yield line(
            (
                row.apprentice_name,
                row.employer_name,
                row.tutor_name or "",
                row.status.label,
                row.start_date.isoformat(),
                row.planned_end_date.isoformat(),
                row.criteria_total,
                row.evidenced,
                row.accepted,
                row.met,
                row.awaiting_review,
                row.otj_logged,
                row.otj_approved,
                row.otj_planned,
                row.otj_expected,
                "Yes" if row.otj_behind else "No",
                row.last_review.isoformat() if row.last_review else "",
                row.next_review_due.isoformat() if row.next_review_due else "",
                "Yes" if row.review_overdue else "No",
            )
        )


def figure(hours: Decimal) -> str:
    """Hours without trailing zeros: 12, 7.5, 0.25."""
    return f"{hours:,.2f}".rstrip("0").rstrip(".")


def _chosen(value: int | None, choices: Iterable[tuple[int, str]]) -> int | None:
    """The id chosen in a filter, if it is one of the choices offered (others are ignored)."""
    return value if value is not None and value in {choice for choice, _ in choices} else None
