"""Soak test: many people uploading, editing, deleting and exporting at once, with the sweep running; nothing lost.

    python benchmarks/soak.py [--users 12] [--seconds 120] [--hosts 1] [--workers 0] [--s3] [--processes 2]
                              [--server postgresql://postgres@127.0.0.1:5432/test]

Makes a cluster (benchmarks/cluster.py): a scratch PostgreSQL database beside the one `--server`
names, migrated, and HOSTS gunicorn hosts as the README deploys them (PROCESSES gthread workers of
4 threads each, an instance folder each), with WORKERS `portfolio worker` processes, the evidence
in a folder they all share or, with --s3, in a versioned bucket of moto's S3 server. Then, for
SECONDS:

- each of USERS apprentices, signed in through the real form, adds evidence items with one or two
  files drawn from a small pool of bytes that every apprentice shares (so that items of different
  people point at the same stored file), adds and removes files, deletes drafts, submits and
  withdraws, each through its page; every action goes to any host, as a balancer would send it;
- a tutor starts reviews and accepts or refers back what is submitted;
- with workers, the apprentices and the tutor now and then ask for a PDF or a ZIP export; each
  must end ready and download through a host other than the one it was asked on (with one host,
  that one), whole: a PDF starts with %PDF, every CRC of a ZIP is right;
- `portfolio evidence sweep` runs every few seconds with a grace period of GRACE seconds (a
  stand-in for the production default of a day, far longer than any request here), deleting stored
  files that no row has referred to for longer than that.

Each apprentice keeps a ledger of what the server acknowledged. At the end the script waits for the
exports still being made, compares the database with the ledgers (every acknowledged item is there
with exactly its files, every deleted one is gone, every export asked for is ready), checks that
every referenced file is in the store, and runs `portfolio evidence verify` and `portfolio audit
verify`. It prints the actions and answers, and exits 1 if anything was lost, changed, failed or
answered with a 5xx.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cluster import Browser, Cluster, database_options, export_problem

CRITERIA = ("K1", "K2", "S4", "S5", "B4")
EXPORT_TIMEOUT = 600  # seconds an export may take at the end, under the whole soak's load


def pool_of_files(owner: str) -> dict[str, bytes]:
    """Six small files every apprentice draws from, so stored files are shared between items, and
    six of the apprentice's own, which deleting their items leaves unreferenced for the sweep."""
    files = {}
    for who, n in [("shared", n) for n in range(6)] + [(owner, n) for n in range(6)]:
        body = f"{who} session {n} notes: audience of {20 + n} at the riverside studio.\n".encode() * (50 + n)
        files[f"{who.split('@')[0]}-notes-{n}.pdf"] = b"%PDF-1.4\n%" + body + b"\n%%EOF\n"
    return files


@dataclass
class Ledger:
    """What the server acknowledged to one apprentice: item id -> status and the hashes of its files."""

    items: dict[int, dict] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    actions: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    # Exports asked for and not yet checked: export id -> (enrolment id, format, the host asked).
    exports: dict[int, tuple[int, str, int]] = field(default_factory=dict)
    checked_exports: set[int] = field(default_factory=set)


@dataclass
class Hosts:
    """The hosts' ports, and whether exports are asked for (only with workers to make them)."""

    ports: list[int]
    exports: bool

    def any(self) -> int:
        return random.choice(self.ports)

    def other_than(self, port: int) -> int:
        return next((p for p in self.ports if p != port), port)


def ask_export(browser: Browser, ledger: Ledger, enrolment_id: int, hosts: Hosts) -> None:
    """Press "Export as a PDF" or "as a ZIP" on the enrolment page of any host, and remember it."""
    export_format = random.choice(("pdf", "zip"))
    port = hosts.any()
    status, export_id, ready = browser.ask_export(enrolment_id, export_format, port=port)
    if not export_id:
        ledger.problems.append(f"asking for a {export_format} export of enrolment {enrolment_id} answered {status}")
        return
    ledger.actions[f"export {export_format}" + (" (already made)" if ready else "")] += 1
    if export_id not in ledger.checked_exports:
        ledger.exports[export_id] = (enrolment_id, export_format, port)


def check_exports(browser: Browser, ledger: Ledger, hosts: Hosts, *, wait: float = 0) -> None:
    """Download each export that is ready through another host than the one asked, and check it;
    with `wait`, wait that long for each still being made."""
    for export_id, (enrolment_id, export_format, asked) in list(ledger.exports.items()):
        port = hosts.other_than(asked)
        if wait:
            status = browser.wait_for_export(enrolment_id, export_id, timeout=wait, port=port)
        else:
            status = browser.export_status(enrolment_id, export_id, port=port)
        if status == "pending" and not wait:
            continue
        del ledger.exports[export_id]
        ledger.checked_exports.add(export_id)
        if status != "ready":
            ledger.problems.append(f"export {export_id} ({export_format}, enrolment {enrolment_id}) is {status}")
            continue
        code, _, data = browser.request("GET", f"/enrolments/{enrolment_id}/exports/{export_id}/download", port=port)
        problem = export_problem(export_format, data) if code == 200 else f"its download answered {code}"
        if problem:
            ledger.problems.append(f"export {export_id} ({export_format}): {problem}")
        else:
            ledger.actions[f"exports downloaded and whole ({export_format})"] += 1


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


def apprentice_loop(hosts: Hosts, email: str, enrolment_id: int, stop: float, ledger: Ledger) -> None:
    pool = pool_of_files(email)
    browser = Browser(hosts.any())
    browser.sign_in(email)
    base = f"/enrolments/{enrolment_id}/evidence"
    names = list(pool)
    counter = 0
    while time.monotonic() < stop:
        browser.port = hosts.any()
        drafts = [i for i, v in ledger.items.items() if v["status"] == "draft"]
        submitted = [i for i, v in ledger.items.items() if v["status"] == "submitted"]
        action = random.choices(
            ["create", "add_file", "remove_file", "delete", "submit", "withdraw", "export"],
            weights=[5, 2, 2, 2, 3, 1, 1 if hosts.exports else 0],
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
        elif action == "export":
            ask_export(browser, ledger, enrolment_id, hosts)
        check_exports(browser, ledger, hosts)
    check_exports(browser, ledger, hosts, wait=EXPORT_TIMEOUT)
    ledger.actions.update({f"HTTP {status}": n for status, n in browser.answers.items()})


def tutor_loop(hosts: Hosts, email: str, enrolment_ids: list[int], stop: float, ledger: Ledger) -> None:
    browser = Browser(hosts.any())
    browser.sign_in(email)
    while time.monotonic() < stop:
        browser.port = hosts.any()
        if hosts.exports and random.random() < 0.1:
            ask_export(browser, ledger, random.choice(enrolment_ids), hosts)
        check_exports(browser, ledger, hosts)
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


def sweep_loop(cluster: Cluster, stop: float, results: Counter) -> None:
    while time.monotonic() < stop:
        done = cluster.run("evidence", "sweep")
        results["sweeps"] += 1
        results["sweep failures"] += done.returncode != 0
        for label, pattern in SWEEP_FIGURES.items():
            results[label] += sum(int(n) for n in re.findall(pattern, done.stdout))
        time.sleep(3)


def check_against_ledgers(cluster: Cluster, ledgers: list[Ledger], stored: Callable[[str], bool]) -> list[str]:
    """Every acknowledged item with its files, every deleted one gone, every referenced file stored,
    every export ready and checked by someone who asked for it."""
    problems = []
    with cluster.connect() as conn:
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
            if not stored(sha256):
                problems.append(f"stored file {sha256} is referenced but missing")
        checked = set().union(*(ledger.checked_exports for ledger in ledgers))
        for export_id, status, problem in conn.execute("SELECT id, status, problem FROM exports"):
            if status != "ready":
                problems.append(f"export {export_id} is {status} {problem}".rstrip())
            if export_id not in checked:
                problems.append(f"export {export_id} was never checked")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--grace", type=float, default=20, help="the sweep's grace period, in seconds")
    parser.add_argument("--processes", type=int, default=2, help="gunicorn's workers on each host (default 2)")
    database_options(parser)
    args = parser.parse_args()

    settings = {"PORTFOLIO_SWEEP_GRACE_HOURS": str(args.grace / 3600)}
    with Cluster(
        args.server, args.hosts, args.workers, args.s3, processes_per_host=args.processes, settings=settings,
        keep=args.keep,
    ) as cluster:  # fmt: skip
        people = [p for p in cluster.setup("--apprentices", str(args.users)) if p["role"] == "apprentice"]
        cluster.serve()
        hosts = Hosts([host.port for host in cluster.hosts], exports=bool(cluster.workers))

        stop = time.monotonic() + args.seconds
        ledgers = [Ledger() for _ in people]
        tutor_ledger, sweeps = Ledger(), Counter()
        threads = [
            threading.Thread(target=apprentice_loop, args=(hosts, person["email"], person["enrolment"], stop, ledger))
            for person, ledger in zip(people, ledgers, strict=True)
        ]
        enrolments = [person["enrolment"] for person in people]
        threads.append(
            threading.Thread(target=tutor_loop, args=(hosts, "tutor@saltmarsh.example", enrolments, stop, tutor_ledger))
        )
        threads.append(threading.Thread(target=sweep_loop, args=(cluster, stop, sweeps)))
        started = time.monotonic()
        for thread in threads:
            thread.daemon = True  # after Ctrl-C the cluster is torn down and the script ends, whatever they do
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        time.sleep(args.grace + 1)  # one last sweep after the grace: only unreferenced files may go
        final_sweep = cluster.run("evidence", "sweep")

        totals = sum((ledger.actions for ledger in [*ledgers, tutor_ledger]), Counter())
        problems = [p for ledger in [*ledgers, tutor_ledger] for p in ledger.problems]
        problems += check_against_ledgers(cluster, [*ledgers, tutor_ledger], cluster.stored)
        evidence_verify = cluster.run("evidence", "verify")
        audit_verify = cluster.run("audit", "verify")
        server_errors = sum(n for key, n in totals.items() if key.startswith("HTTP 5"))

        finishing = f" (the last exports checked after {elapsed:.0f} s)" if hosts.exports else ""
        print(f"soak: {args.users} apprentices and a tutor for {args.seconds:.0f} s{finishing}, {cluster.where()}")
        for key in sorted(k for k in totals if not k.startswith("HTTP")):
            print(f"  {key}: {totals[key]}")
        answers = {k.removeprefix("HTTP "): v for k, v in sorted(totals.items()) if k.startswith("HTTP")}
        print("  answers: " + ", ".join(f"{k}: {v}" for k, v in answers.items()))
        print("  sweeps during the soak: " + ", ".join(f"{k}: {v}" for k, v in sorted(sweeps.items())))
        print(f"  final sweep: {final_sweep.stdout.strip() or final_sweep.stderr.strip()}")
        kept = sum(len(ledger.items) for ledger in ledgers)
        print(f"  items acknowledged and kept: {kept}; deleted: {sum(len(ledger.deleted) for ledger in ledgers)}")
        checked = sum(len(ledger.checked_exports) for ledger in [*ledgers, tutor_ledger])
        if hosts.exports:
            print(f"  exports checked (ready, downloaded through another host, whole): {checked}")
        for command, done in (("evidence verify", evidence_verify), ("audit verify", audit_verify)):
            print(f"  portfolio {command}: exit {done.returncode}: {(done.stdout or done.stderr).strip()[-300:]}")
        print(f"  server errors (5xx): {server_errors}")
        print(f"  problems: {len(problems)}")
        for problem in problems[:20]:
            print(f"    {problem}")
        failed = problems or server_errors or evidence_verify.returncode or audit_verify.returncode
        print("RESULT: " + ("FAILED" if failed else "nothing lost, nothing changed, no server error"))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
