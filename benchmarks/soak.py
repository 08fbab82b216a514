"""Soak test: many people uploading, editing and deleting at once, with the sweep running; nothing lost.

    python benchmarks/soak.py [--users 12] [--seconds 120] [--server postgresql://postgres@127.0.0.1:5432/test]

Makes a scratch PostgreSQL database beside the one `--server` names, migrates it, and serves the
app with gunicorn as the README deploys it (3 gthread workers of 4 threads). Then, for SECONDS:

- each of USERS apprentices, signed in through the real form, adds evidence items with one or two
  files drawn from a small pool of bytes that every apprentice shares (so that items of different
  people point at the same stored file), adds and removes files, deletes drafts, submits and
  withdraws, each through its page;
- a tutor starts reviews and accepts or refers back what is submitted;
- `portfolio evidence sweep` runs every few seconds with a grace period of GRACE seconds (a
  stand-in for the production default of a day, far longer than any request here), deleting stored
  files that no row has referred to for longer than that.

Each apprentice keeps a ledger of what the server acknowledged. At the end the script compares
the database with the ledgers (every acknowledged item is there with exactly its files, every
deleted one is gone), checks that every referenced file is in the store, and runs
`portfolio evidence verify` and `portfolio audit verify`. It prints the actions and answers, and
exits 1 if anything was lost, changed or answered with a 5xx.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "amber kestrel lantern parade"
CRITERIA = ("K1", "K2", "S4", "S5", "B4")

SETUP = r"""
import sys
from datetime import date
from flask_migrate import upgrade
from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.extensions import db
from portfolio.models import AgeBand, OrganisationKind, Role
from portfolio.enrolments.standard_versions import store_standard
from standard import shipped_path

users, password = int(sys.argv[1]), sys.argv[2]
app = create_app()
with app.app_context():
    upgrade(directory=app.extensions["migrate"].directory)
    s = db.session
    version, _ = store_standard(s, shipped_path("ST0396").read_text())
    provider = create_organisation(s, "Saltmarsh Arts Training", OrganisationKind.PROVIDER)
    employer = create_organisation(s, "Quayside Heritage Trust", OrganisationKind.EMPLOYER)
    tutor = create_user(s, email="tutor@saltmarsh.example", name="Imogen Varga", role=Role.TUTOR,
                        organisation=provider, password=password)
    for n in range(users):
        apprentice = create_user(s, email=f"apprentice{n}@quayside.example", name=f"Soak Apprentice {n}",
                                 role=Role.APPRENTICE, organisation=employer, password=password)
        enrolment = enrol(s, apprentice=apprentice, standard_version=version, employer=employer, by=None,
                          terms=EnrolmentTerms(provider=provider, epao=None, mentor=None, tutor=tutor,
                                               start_date=date(2025, 9, 1), planned_end_date=date(2027, 3, 1),
                                               planned_otj_hours=400, age_band=AgeBand.AGED_24_PLUS,
                                               english_maths_route="achieved"))
        s.flush()
        print(apprentice.email, enrolment.id, flush=True)
    s.commit()
"""


def pool_of_files(owner: str) -> dict[str, bytes]:
    """Six small files every apprentice draws from, so stored files are shared between items, and
    six of the apprentice's own, which deleting their items leaves unreferenced for the sweep."""
    files = {}
    for who, n in [("shared", n) for n in range(6)] + [(owner, n) for n in range(6)]:
        body = f"{who} session {n} notes: audience of {20 + n} at the riverside studio.\n".encode() * (50 + n)
        files[f"{who.split('@')[0]}-notes-{n}.pdf"] = b"%PDF-1.4\n%" + body + b"\n%%EOF\n"
    return files


class Browser:
    """One person's cookie jar and CSRF token against the server, over plain http.client."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.answers: Counter[int] = Counter()

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";")[0].partition("=")
            self.cookies[name] = value
        self.answers[response.status] += 1
        if match := re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', data):
            self.token = match.group(1).decode()
        return response.status, response.getheader("Location") or "", data

    def post(self, path: str, fields: list[tuple[str, str]]):
        body = urlencode([("csrf_token", self.token), *fields]).encode()
        return self.request("POST", path, body, "application/x-www-form-urlencoded")

    def post_multipart(self, path: str, fields: list[tuple[str, str]], files: list[tuple[str, bytes]]):
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in [("csrf_token", self.token), *fields]
        ]
        for filename, data in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                f"Content-Type: application/pdf\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, f"multipart/form-data; boundary={boundary}")

    def sign_in(self, email: str) -> None:
        self.request("GET", "/sign-in")
        status, _, _ = self.post("/sign-in", [("email", email), ("password", PASSWORD)])
        if status != 302:
            raise SystemExit(f"signing in {email} failed: HTTP {status}")
        self.request("GET", "/")  # a fresh token: it changes at sign-in


@dataclass
class Ledger:
    """What the server acknowledged to one apprentice: item id -> status and the hashes of its files."""

    items: dict[int, dict] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    actions: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def item_fields(title: str) -> list[tuple[str, str]]:
    code = random.choice(CRITERIA)
    return [
        ("title", title),
        ("kind", "event_plan"),
        ("activity_date", "3"),
        ("activity_date", "11"),
        ("activity_date", "2025"),
        ("description", "Plan and notes for a family workshop."),
        ("reflection", "Booking the room early helped."),
        ("criteria", code),
        (f"justification-{code}", "The notes show how I planned for the audience."),
    ]


def apprentice_loop(port: int, email: str, enrolment_id: int, stop: float, ledger: Ledger):
    pool = pool_of_files(email)
    browser = Browser(port)
    browser.sign_in(email)
    base = f"/enrolments/{enrolment_id}/evidence"
    names = list(pool)
    counter = 0
    while time.monotonic() < stop:
        drafts = [i for i, v in ledger.items.items() if v["status"] == "draft"]
        submitted = [i for i, v in ledger.items.items() if v["status"] == "submitted"]
        action = random.choices(
            ["create", "add_file", "remove_file", "delete", "submit", "withdraw"], weights=[5, 2, 2, 2, 3, 1]
        )[0]
        if action == "create" or not drafts and action in {"add_file", "remove_file", "delete", "submit"}:
            counter += 1
            chosen = random.sample(names, random.choice((1, 2)))
            browser.request("GET", f"{base}/new")
            status, location, _ = browser.post_multipart(
                f"{base}/new", item_fields(f"{email} item {counter}"), [(n, pool[n]) for n in chosen]
            )
            if status == 302 and (match := re.search(r"/evidence/(\d+)$", location)):
                item_id = int(match.group(1))
                hashes = Counter(hashlib.sha256(pool[n]).hexdigest() for n in chosen)
                ledger.items[item_id] = {"status": "draft", "files": hashes}
                ledger.actions["create"] += 1
            else:
                ledger.problems.append(f"create answered {status}")
        elif action == "add_file":
            item_id = random.choice(drafts)
            name = random.choice(names)
            browser.request("GET", f"{base}/{item_id}/edit")
            status, _, _ = browser.post_multipart(
                f"{base}/{item_id}/edit", item_fields(f"{email} item {item_id} edited"), [(name, pool[name])]
            )
            if status == 302:
                ledger.items[item_id]["files"][hashlib.sha256(pool[name]).hexdigest()] += 1
                ledger.actions["add_file"] += 1
            else:
                ledger.problems.append(f"add file answered {status}")
        elif action == "remove_file":
            item_id = random.choice(drafts)
            _, _, page = browser.request("GET", f"{base}/{item_id}")
            file_ids = re.findall(rb"/files/(\d+)/remove", page)
            if len(file_ids) > 1:
                file_id = int(random.choice(file_ids))
                # Which hash that file has: its download answers with the stored bytes.
                _, _, data = browser.request("GET", f"{base}/{item_id}/files/{file_id}")
                status, _, _ = browser.post(f"{base}/{item_id}/files/{file_id}/remove", [])
                if status == 302:
                    ledger.items[item_id]["files"][hashlib.sha256(data).hexdigest()] -= 1
                    ledger.actions["remove_file"] += 1
                else:
                    ledger.problems.append(f"remove file answered {status}")
        elif action == "delete":
            item_id = random.choice(drafts)
            browser.request("GET", f"{base}/{item_id}/delete")
            status, _, _ = browser.post(f"{base}/{item_id}/delete", [])
            if status == 302:
                del ledger.items[item_id]
                ledger.deleted.add(item_id)
                ledger.actions["delete"] += 1
            else:
                ledger.problems.append(f"delete answered {status}")
        elif action == "submit":
            item_id = random.choice(drafts)
            browser.request("GET", f"{base}/{item_id}")
            status, _, _ = browser.post(f"{base}/{item_id}/submit", [])
            if status == 302:
                ledger.items[item_id]["status"] = "submitted"
                ledger.actions["submit"] += 1
        elif action == "withdraw" and submitted:
            item_id = random.choice(submitted)
            browser.request("GET", f"{base}/{item_id}/withdraw")
            status, location, _ = browser.post(f"{base}/{item_id}/withdraw", [("reason", "Replaced by a better plan.")])
            if status == 302 and location.endswith(f"/evidence/{item_id}"):
                ledger.items[item_id]["status"] = "withdrawn"
                ledger.actions["withdraw"] += 1
    ledger.actions.update({f"HTTP {status}": n for status, n in browser.answers.items()})


def tutor_loop(port: int, email: str, enrolment_ids: list[int], stop: float, ledger: Ledger) -> None:
    browser = Browser(port)
    browser.sign_in(email)
    while time.monotonic() < stop:
        _, _, page = browser.request("GET", "/review")
        found = re.findall(rb"/enrolments/(\d+)/evidence/(\d+)", page)
        if not found:
            time.sleep(0.2)
            continue
        enrolment_id, item_id = (int(x) for x in random.choice(found))
        path = f"/enrolments/{enrolment_id}/evidence/{item_id}"
        browser.request("GET", path)
        browser.post(f"{path}/review/start", [])
        decision = random.choice(("accept", "refer"))
        status, _, _ = browser.post(
            f"{path}/review/decide", [("decision", decision), ("feedback", "Add the attendance figures.")]
        )
        if status == 302:
            ledger.actions[decision] += 1
    ledger.actions.update({f"HTTP {status}": n for status, n in browser.answers.items()})


SWEEP_FIGURES = {"files marked": r"Marked (\d+)", "files deleted": r"Deleted (\d+)", "temporary files": r"(\d+) stale"}


def sweep_loop(env: dict[str, str], stop: float, results: Counter) -> None:
    while time.monotonic() < stop:
        done = run_portfolio(env, "evidence", "sweep")
        results["sweeps"] += 1
        results["sweep failures"] += done.returncode != 0
        for label, pattern in SWEEP_FIGURES.items():
            results[label] += sum(int(n) for n in re.findall(pattern, done.stdout))
        time.sleep(3)


def run_portfolio(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from portfolio.cli import main; main()", *args],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_against_ledgers(database_url: str, ledgers: list[Ledger], store: Path) -> list[str]:
    problems = []
    with psycopg.connect(database_url) as conn:
        files: dict[int, Counter] = {}
        for item_id, sha256 in conn.execute("SELECT item_id, sha256 FROM evidence_files"):
            files.setdefault(item_id, Counter())[sha256] += 1
        statuses = dict(conn.execute("SELECT id, status FROM evidence_items"))
        for ledger in ledgers:
            for item_id, expected in ledger.items.items():
                if item_id not in statuses:
                    problems.append(f"item {item_id} was acknowledged but is not in the database")
                    continue
                if +expected["files"] != files.get(item_id, Counter()):
                    problems.append(f"item {item_id} has files {files.get(item_id)}, expected {+expected['files']}")
            problems += [f"deleted item {i} is still there" for i in ledger.deleted if i in statuses]
        for (sha256,) in conn.execute("SELECT DISTINCT sha256 FROM evidence_files"):
            if not (store / sha256[:2] / sha256[2:4] / sha256).is_file():
                problems.append(f"stored file {sha256} is referenced but missing")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--grace", type=float, default=20, help="the sweep's grace period, in seconds")
    parser.add_argument(
        "--server", default=os.environ.get("PORTFOLIO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()

    name = f"portfolio_soak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = args.server.rsplit("/", 1)[0] + f"/{name}"
    scratch = Path(tempfile.mkdtemp(prefix="portfolio-soak-"))
    store = scratch / "evidence-store"
    env = os.environ | {
        "PORTFOLIO_DATABASE_URL": database_url,
        "PORTFOLIO_SECRET_KEY": uuid.uuid4().hex,
        "PORTFOLIO_AUDIT_KEY": uuid.uuid4().hex,
        "PORTFOLIO_EVIDENCE_DIR": str(store),
        "PORTFOLIO_SWEEP_GRACE_HOURS": str(args.grace / 3600),
        "PYTHONPATH": str(ROOT),
    }
    server = None
    try:
        setup = subprocess.run(
            [sys.executable, "-c", SETUP, str(args.users), PASSWORD],
            env=env, cwd=scratch, capture_output=True, text=True, check=True,
        )  # fmt: skip
        people = [(line.split()[0], int(line.split()[1])) for line in setup.stdout.splitlines()]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "3", "--threads", "4", "--timeout", "120",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "portfolio:create_app()"],
            env=env, cwd=scratch,
        )  # fmt: skip
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)

        stop = time.monotonic() + args.seconds
        ledgers = [Ledger() for _ in people]
        tutor_ledger, sweeps = Ledger(), Counter()
        threads = [
            threading.Thread(target=apprentice_loop, args=(port, email, eid, stop, ledger))
            for (email, eid), ledger in zip(people, ledgers, strict=True)
        ]
        threads.append(
            threading.Thread(
                target=tutor_loop, args=(port, "tutor@saltmarsh.example", [e for _, e in people], stop, tutor_ledger)
            )
        )
        threads.append(threading.Thread(target=sweep_loop, args=(env, stop, sweeps)))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        time.sleep(args.grace + 1)  # one last sweep after the grace: only unreferenced files may go
        final_sweep = run_portfolio(env, "evidence", "sweep")

        totals = sum((ledger.actions for ledger in [*ledgers, tutor_ledger]), Counter())
        problems = [p for ledger in ledgers for p in ledger.problems]
        problems += check_against_ledgers(database_url, ledgers, store)
        evidence_verify = run_portfolio(env, "evidence", "verify")
        audit_verify = run_portfolio(env, "audit", "verify")
        server_errors = sum(n for key, n in totals.items() if key.startswith("HTTP 5"))

        print(f"soak: {args.users} apprentices and a tutor for {elapsed:.0f} s against gunicorn on PostgreSQL")
        for key in sorted(k for k in totals if not k.startswith("HTTP")):
            print(f"  {key}: {totals[key]}")
        answers = {k.removeprefix("HTTP "): v for k, v in sorted(totals.items()) if k.startswith("HTTP")}
        print("  answers: " + ", ".join(f"{k}: {v}" for k, v in answers.items()))
        print("  sweeps during the soak: " + ", ".join(f"{k}: {v}" for k, v in sorted(sweeps.items())))
        print(f"  final sweep: {final_sweep.stdout.strip() or final_sweep.stderr.strip()}")
        kept = sum(len(ledger.items) for ledger in ledgers)
        print(f"  items acknowledged and kept: {kept}; deleted: {sum(len(ledger.deleted) for ledger in ledgers)}")
        for command, done in (("evidence verify", evidence_verify), ("audit verify", audit_verify)):
            print(f"  portfolio {command}: exit {done.returncode}: {(done.stdout or done.stderr).strip()[-300:]}")
        print(f"  server errors (5xx): {server_errors}")
        print(f"  problems: {len(problems)}")
        for problem in problems[:20]:
            print(f"    {problem}")
        failed = problems or server_errors or evidence_verify.returncode or audit_verify.returncode
        print("RESULT: " + ("FAILED" if failed else "nothing lost, nothing changed, no server error"))
        sys.exit(1 if failed else 0)
    finally:
        if server:
            server.terminate()
            server.wait()
        with psycopg.connect(args.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
