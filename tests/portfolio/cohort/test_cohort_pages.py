"""The cohort pages: the table, its filters, sorting and paging, the CSV download, who may see
them, and a fixed number of queries however large the cohort."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import insert

from portfolio.cohort.views import neutralise
from portfolio.enrolments.totals import recount_all
from portfolio.extensions import db
from portfolio.models import (
    AgeBand,
    CriterionJudgement,
    CriterionLink,
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    OtjActivity,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewInterval,
    Role,
    User,
)

from ..conftest import counting_queries, sign_in
from .cohort_world import build_cohort

NAMES = ["Alice Archer", "Ben Baker", "Cara Clay", "Dev Dunn"]


@pytest.fixture
def cohort(world):
    return build_cohort(world)


class _Table(HTMLParser):
    """The text of each body row's cells, the first link of each row (the apprentice), and the
    header cells' attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.names: list[str] = []
        self._link: list[str] | None = None
        self.headers: list[dict[str, str | None]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th"):
            if not self._in_body:
                self.headers.append(dict(attrs))
            self._cell = []
        elif tag == "a" and self._in_body and len(self.names) < len(self.rows):
            self._link = []

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.names.append("".join(self._link).strip())
            self._link = None
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            if self._in_body:
                self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._link is not None:
            self._link.append(data)


def _table(html: str) -> _Table:
    table = _Table()
    table.feed(html)
    return table


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _csv(client, url: str) -> list[list[str]]:
    response = client.get(url, buffered=True)  # the body streams: read it inside the request
    assert response.status_code == 200, url
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="cohort-')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_tutor_sees_the_providers_cohort_with_figures_and_flags(client, cohort):
    sign_in(client, cohort["priya"])
    html = _page(client, "/cohort")
    table = _table(html)
    assert table.names == NAMES  # never Eve, of another provider
    alice = table.rows[0]
    assert alice[:3] == ["Alice Archer Harbourside Museum On programme", "Priya Natarajan", "1 Sep 2025"]
    assert alice[3] == "5 of 49 evidenced 4 accepted, 3 met"
    assert alice[4] == "1 item of Alice Archer to review"  # a link to the review queue
    assert alice[5].startswith("6.75 logged 3.5 approved 375 expected")
    assert "Behind pace" in alice[5]  # long past the dates of the hand-built cohort: behind
    assert "Last 30 Nov 2025" in alice[6]
    assert table.rows[2][6] == "None due Last none yet"  # Cara is at gateway
    assert 'class="app-table-container" role="region" aria-label="Cohort" tabindex="0"' in html
    assert "app-coverage-bar__fill--10" in html
    assert f'href="/review?apprentice={cohort["alice"].apprentice_id}"' in html
    assert 'href="/cohort.csv"' in html


def test_employer_sees_only_their_organisation_without_an_employer_column(client, cohort):
    sign_in(client, cohort["helen"])
    html = _page(client, "/cohort")
    table = _table(html)
    assert table.names == ["Alice Archer", "Cara Clay", "Dev Dunn"]
    assert table.rows[0][:2] == ["Alice Archer On programme", "Priya Natarajan"]  # no employer under the name
    assert 'name="employer"' not in html and "Larkfield Playhouse" not in html
    assert "/review?" not in html  # employers do not review evidence: the count is plain text
    # Another employer's id in the query string changes nothing.
    other = _table(_page(client, f"/cohort?employer={cohort['theatre'].id}"))
    assert other.names == ["Alice Archer", "Cara Clay", "Dev Dunn"]
    assert [row[0] for row in _csv(client, "/cohort.csv")[1:]] == ["Alice Archer", "Cara Clay", "Dev Dunn"]


def test_filters(client, cohort):
    sign_in(client, cohort["priya"])
    museum, tom = cohort["museum"].id, cohort["tom"].id

    def names(url):
        return _table(_page(client, url)).names

    assert names(f"/cohort?employer={museum}") == ["Alice Archer", "Cara Clay", "Dev Dunn"]
    assert names(f"/cohort?tutor={tom}") == ["Ben Baker"]
    assert names("/cohort?status=at_gateway") == ["Cara Clay"]
    assert names("/cohort?q=DEV") == ["Dev Dunn"]
    html = _page(client, f"/cohort?employer={museum}&q=zzz")
    assert "No apprentices match these filters" in html
    html = _page(client, f"/cohort?employer={museum}&status=at_gateway")
    assert f'<option value="{museum}" selected>' in html
    assert '<option value="at_gateway" selected>' in html
    assert "1 apprentice found" in html


def test_sortable_headers(client, cohort):
    sign_in(client, cohort["priya"])
    html = _page(client, "/cohort")
    headers = _table(html).headers
    assert [h.get("aria-sort") for h in headers if h.get("aria-sort")] == ["ascending"]
    assert 'href="/cohort?order=desc">Apprentice</a>' in html  # the sorted column sorts back
    assert 'href="/cohort?sort=awaiting">Awaiting review</a>' in html  # most first by default
    html = _page(client, "/cohort?sort=awaiting")
    assert _table(html).names == ["Cara Clay", "Alice Archer", "Ben Baker", "Dev Dunn"]
    assert 'aria-sort="descending"' in html
    assert 'href="/cohort?sort=awaiting&amp;order=asc">Awaiting review</a>' in html
    html = _page(client, "/cohort?sort=coverage&order=desc&status=on_programme")
    assert _table(html).names == ["Alice Archer", "Ben Baker", "Dev Dunn"]
    # The filter form keeps the sort; the download link keeps both.
    assert '<input type="hidden" name="sort" value="coverage">' in html
    assert '<input type="hidden" name="order" value="desc">' in html
    assert 'href="/cohort.csv?status=on_programme&amp;sort=coverage&amp;order=desc"' in html


def test_pages_follow_the_sort(client, cohort, app):
    app.config["PAGE_SIZE"] = 3
    sign_in(client, cohort["priya"])
    first = _page(client, "/cohort?sort=start&order=desc")
    second = _page(client, "/cohort?sort=start&order=desc&page=2")
    assert _table(first).names == ["Dev Dunn", "Ben Baker", "Alice Archer"]
    assert _table(second).names == ["Cara Clay"]
    assert 'href="/cohort?page=2&amp;sort=start&amp;order=desc"' in first
    # The CSV has every row, whatever the page size.
    assert [row[0] for row in _csv(client, "/cohort.csv?sort=start&order=desc")[1:]] == [
        "Dev Dunn",
        "Ben Baker",
        "Alice Archer",
        "Cara Clay",
    ]


@pytest.mark.parametrize(
    "query", ["", "?sort=coverage", "?sort=review&order=desc", "?sort=otj&status=on_programme", "?q=a&sort=start"]
)
def test_csv_has_the_rows_and_figures_of_the_table(client, cohort, query):
    sign_in(client, cohort["priya"])
    table = _table(_page(client, f"/cohort{query}"))
    lines = _csv(client, f"/cohort.csv{query}")
    header, rows = lines[0], lines[1:]
    assert header[:4] == ["Apprentice", "Employer", "Tutor", "Status"] and len(header) == 19
    assert [row[0] for row in rows] == table.names
    for row, cells in zip(rows, table.rows, strict=True):
        record = dict(zip(header, row, strict=True))
        hours = {name: _hours(record[f"Off-the-job hours {name}"]) for name in ("logged", "approved")}
        expected = _hours(record["Off-the-job hours expected by today"])
        due, last = record["Next progress review due"], record["Last progress review"]
        assert cells[0] == f"{record['Apprentice']} {record['Employer']} {record['Status']}"
        assert cells[1:3] == [record["Tutor"] or "Not assigned", _short(record["Start date"])]
        assert cells[3] == (
            f"{record['Criteria evidenced']} of {record['Criteria']} evidenced "
            f"{record['Criteria accepted']} accepted, {record['Criteria judged met']} met"
        )
        assert cells[4].split()[0] == record["Evidence awaiting review"]
        assert cells[5].startswith(f"{hours['logged']} logged {hours['approved']} approved {expected} expected")
        assert ("Behind pace" in cells[5]) == (record["Behind off-the-job pace"] == "Yes")
        assert cells[6].startswith(
            f"{'Due ' + _short(due) if due else 'None due'} Last {_short(last) if last else 'none yet'}"
        )
        assert ("Overdue" in cells[6]) == (record["Progress review overdue"] == "Yes")


def _hours(text: str) -> str:
    """Hours as the table shows them: 6.75, 3.5, 375."""
    return f"{Decimal(text).normalize():f}"


def _short(iso: str) -> str:
    """A CSV date as the table shows it: 1 Sep 2025."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def test_csv_neutralises_formulas(client, world):
    provider = world.provider("=cmd|' /C calc'!A0")
    employer = world.employer("+SUM(A1:A9)")
    tutor = world.user(Role.TUTOR, provider, name="@Tutor")
    world.enrolment(
        apprentice=world.user(Role.APPRENTICE, employer, name='=HYPERLINK("http://evil.example","x")'),
        provider=provider,
        tutor=tutor,
    )
    world.enrolment(apprentice=world.user(Role.APPRENTICE, employer, name="-2+3"), provider=provider, tutor=tutor)
    db.session.commit()
    sign_in(client, tutor)
    rows = _csv(client, "/cohort.csv")[1:]
    assert [row[:3] for row in rows] == [
        ["'-2+3", "'+SUM(A1:A9)", "'@Tutor"],
        ['\'=HYPERLINK("http://evil.example","x")', "'+SUM(A1:A9)", "'@Tutor"],
    ]
    # Numbers and dates are left alone; every text cell is checked.
    assert rows[0][4] == "2025-09-01" and rows[0][6] == "49"
    assert [neutralise(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", 5)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "'\rx",
        "a=1",
        5,
    ]


HOSTILE = [
    "employer=abc",
    "employer=99999999999999999999",
    "employer=-1&tutor=0",
    "tutor=2147483648",
    "status=%3Cscript%3Ealert(1)%3C/script%3E",
    "status=on_programme&status=withdrawn",
    "sort=name;DROP TABLE enrolments",
    "sort=coverage&order=sideways",
    "page=-5",
    "page=999999999999",
    "page=abc",
    "q=%00%25_%5C",
    "q=" + "x" * 5000,
    "q=%27%20OR%201%3D1--",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_strings_are_harmless(client, cohort, query):
    sign_in(client, cohort["priya"])
    html = _page(client, f"/cohort?{query}")
    assert "<script>alert(1)" not in html
    assert _csv(client, f"/cohort.csv?{query}")[0][0] == "Apprentice"


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.APPRENTICE, Role.ADMIN])
def test_other_roles_get_404(client, cohort, world, role):
    organisation = {Role.ASSESSOR: world.epao(), Role.APPRENTICE: cohort["museum"]}.get(role, world.provider())
    user = world.user(role, organisation)
    db.session.commit()
    sign_in(client, user)
    assert client.get("/cohort").status_code == 404
    assert client.get("/cohort.csv").status_code == 404
    assert 'href="/cohort"' not in _page(client, "/account/password")


def test_navigation(client, cohort):
    sign_in(client, cohort["priya"])
    html = _page(client, "/cohort")
    assert re.search(r'href="/cohort" aria-current="page">\s*<strong[^>]*>Cohort</strong>', html)
    assert re.search(r'href="/review"[^>]*>\s*Review queue', html)
    client.post("/sign-out")
    sign_in(client, cohort["helen"])
    html = _page(client, "/")
    assert re.search(r'href="/cohort"[^>]*>\s*Cohort', html)
    assert "Review queue" not in html


# --- A fixed number of queries, whatever the size of the cohort -----------------------------------


def _bulk_enrolments(world, provider, employers, tutor, count: int) -> None:
    """`count` enrolments with evidence, links, judgements, OTJ entries and reviews, inserted in bulk."""
    session = db.session
    version = world.standard_version()
    codes = [criterion.code for criterion in version.standard]
    first = session.query(User).count()
    users = session.execute(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": f"bulk.{first + n}@example.org",
                "name": f"Bulk Apprentice {first + n:05}",
                "role": Role.APPRENTICE,
                "organisation_id": employers[n % len(employers)].id,
                "password_hash": "-",
            }
            for n in range(count)
        ],
    ).scalars()
    start = date(2025, 9, 1)
    enrolment_rows = [
        {
            "apprentice_id": user_id,
            "standard_version_id": version.id,
            "employer_id": employers[n % len(employers)].id,
            "provider_id": provider.id,
            "tutor_id": tutor.id if n % 3 else None,
            "start_date": start + timedelta(days=n % 200),
            "planned_end_date": start + timedelta(days=400 + n % 200),
            "planned_otj_hours": 300 + n % 100,
            "age_band": AgeBand.AGED_19_TO_23,
            "english_maths_route": "achieved",
            "review_interval": ReviewInterval.TWELVE_WEEKS if n % 2 else ReviewInterval.THREE_MONTHS,
            "status": EnrolmentStatus.AT_GATEWAY if n % 7 == 0 else EnrolmentStatus.ON_PROGRAMME,
        }
        for n, user_id in enumerate(users)
    ]
    enrolments = session.execute(
        insert(Enrolment).returning(Enrolment.id, Enrolment.apprentice_id, sort_by_parameter_order=True),
        enrolment_rows,
    ).all()
    statuses = [EvidenceStatus.SUBMITTED, EvidenceStatus.ACCEPTED, EvidenceStatus.REFERRED, EvidenceStatus.DRAFT]
    items = session.execute(
        insert(EvidenceItem).returning(EvidenceItem.id, sort_by_parameter_order=True),
        [
            {
                "enrolment_id": enrolment_id,
                "title": f"Evidence {k}",
                "kind": EvidenceKind.REPORT,
                "activity_date": start,
                "status": statuses[(n + k) % 4],
                "created_by_id": apprentice_id,
            }
            for n, (enrolment_id, apprentice_id) in enumerate(enrolments)
            for k in range(2)
        ],
    ).scalars()
    session.execute(
        insert(CriterionLink),
        [
            {"item_id": item_id, "criterion_code": codes[(n * 3 + j) % len(codes)], "justification": "Shown."}
            for n, item_id in enumerate(items)
            for j in range(3)
        ],
    )
    session.execute(
        insert(CriterionJudgement),
        [
            {
                "enrolment_id": enrolment_id,
                "criterion_code": codes[n % len(codes)],
                "level_code": "met",
                "met": bool(n % 2),
                "judged_by_id": tutor.id,
            }
            for n, (enrolment_id, _) in enumerate(enrolments)
        ],
    )
    session.execute(
        insert(OtjEntry),
        [
            {
                "enrolment_id": enrolment_id,
                "activity_date": start,
                "hours": Decimal("2.5"),
                "activity": OtjActivity.WORKSHOP,
                "learning": "Workshop.",
                "status": OtjStatus.APPROVED if n % 2 else OtjStatus.LOGGED,
                "created_by_id": apprentice_id,
            }
            for n, (enrolment_id, apprentice_id) in enumerate(enrolments)
        ],
    )
    session.execute(
        insert(ProgressReview),
        [
            {
                "enrolment_id": enrolment_id,
                "review_date": start + timedelta(days=80),
                "attendees": "All three",
                "progress": "On track.",
                "created_by_id": tutor.id,
                "completed_at": None if n % 4 else start + timedelta(days=81),
            }
            for n, (enrolment_id, _) in enumerate(enrolments)
        ],
    )
    recount_all(session)  # bulk inserts bypass the flush that keeps the counts
    session.commit()


URLS = [
    "/cohort",
    "/cohort?sort=coverage&page=2",
    "/cohort?sort=otj&status=on_programme&q=bulk",
    "/cohort?sort=review&order=desc&employer={employer}&tutor={tutor}&page=3",
    "/cohort.csv?sort=awaiting",
]


def _counts(client, employer, tutor) -> list[int]:
    counts = []
    for url in URLS:
        url = url.format(employer=employer.id, tutor=tutor.id)
        with counting_queries() as count:
            response = client.get(url, buffered=True)
            assert response.status_code == 200, url
            response.get_data()
        counts.append(count())
    return counts


def test_queries_do_not_grow_with_the_cohort(client, world):
    provider = world.provider()
    employers = [world.employer(), world.employer()]
    tutor = world.user(Role.TUTOR, provider)
    manager = world.user(Role.EMPLOYER, employers[0])
    db.session.commit()
    _bulk_enrolments(world, provider, employers, tutor, 50)
    small = {}
    for user in (tutor, manager):
        sign_in(client, user)
        small[user.role] = _counts(client, employers[0], tutor)
        client.post("/sign-out")
    _bulk_enrolments(world, provider, employers, tutor, 1950)
    for user in (tutor, manager):
        sign_in(client, user)
        assert _counts(client, employers[0], tutor) == small[user.role], user.role
        client.post("/sign-out")
    assert max(small[Role.TUTOR]) <= 6, small  # user, two filter lists, standard versions, count, rows
    assert db.session.query(Enrolment).count() == 2000
