"""Two hosts on one database and one bucket: what one stores the other serves, exports are made by
workers, asking again costs no render, and large exports leave other users' pages as fast.

    python benchmarks/two_hosts.py [--users 6] [--clients 6] [--seconds 30] [--large 3] [--workers 3]
                                   [--worker-nice 0] [--max-requests N] [--server postgresql://postgres@127.0.0.1:5432/test]

Starts a cluster (benchmarks/cluster.py): two gunicorn hosts with instance folders of their own, on
a scratch PostgreSQL database and a versioned bucket of moto's S3 server, and WORKERS `portfolio
worker` processes. It holds USERS apprentices with ten submitted items each, and LARGE apprentices
with the portfolio of export_portfolio.py (100 items, 300 links, 40 photos). Then, each figure
against a reference of the same run (the machine is shared and noisy):

1. a file uploaded through host 1 downloads through host 2 with the same bytes; a ZIP export asked
   on host 1 is made by a worker (its log says so, and no host's does) and downloads through host 2;
2. CLIENTS people (the USERS apprentices) GET their enrolment page and evidence list, through both
   hosts in turn, for SECONDS without exports, then for SECONDS (or until they are done) while the
   LARGE apprentices' ZIP exports are asked at once and made by the workers: p50 and p95 of both
   phases, and the ratio of the p95s (goal: 1.5 or less); the hosts' and workers' CPU time in each
   phase shows who rendered, and the count of gunicorn workers restarted after their max_requests
   (a host whose workers all restart at once answers nothing until one has booted); each export
   must end ready and download through host 2, whole;
3. asking again for each large portfolio, unchanged, answers with the export already made
   (goal: under 50 ms, median of the asks), with no new export row and no new job, against the
   enrolment page of the same portfolio.

Prints each figure with its goal and PASS or FAIL; exits 1 if a correctness check fails (bytes
differ, an export not made, or made by a host), not for a missed time. `--worker-nice 19` runs the
workers at the lowest CPU priority, a stand-in for workers on hosts of their own on this machine;
`--max-requests 0` keeps gunicorn from restarting its workers during the run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from cluster import Browser, Cluster, cpu_seconds, database_options, export_problem, percentile

MADE = re.compile(r"Job exports\.make \{'export_id': (\d+)\} done in ([\d.]+) s")


@dataclass
class Phase:
    """The latencies of one phase of the load, and the CPU time each side used meanwhile."""

    latencies: list[float]
    errors: Counter[int]
    seconds: float
    web_cpu: float
    worker_cpu: float
    restarts: int  # gunicorn workers replaced after their requests (max_requests) meanwhile

    def line(self, label: str) -> str:
        p50, p95 = percentile(self.latencies, 0.5) * 1000, percentile(self.latencies, 0.95) * 1000
        return (
            f"   {label}: {len(self.latencies)} pages in {self.seconds:.0f} s, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
            f"slowest {max(self.latencies) * 1000:.0f} ms, errors {sum(self.errors.values())}; "
            f"CPU: hosts {self.web_cpu:.1f} s, workers {self.worker_cpu:.1f} s; gunicorn workers restarted: "
            f"{self.restarts}"
        )


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def made_exports(cluster: Cluster) -> dict[int, tuple[str, float]]:
    """Export id -> (the process whose log says it made it, seconds), from every host's and worker's log."""
    made = {}
    for process in [*cluster.hosts, *cluster.workers]:
        for entry in process.log_lines():
            if match := MADE.search(str(entry.get("message", ""))):
                made[int(match.group(1))] = (process.name, float(match.group(2)))
    return made


def exports_and_jobs(cluster: Cluster) -> tuple[int, int]:
    """How many export rows there are, and the last job id the queue handed out."""
    with cluster.connect() as conn:
        (exports,) = conn.execute("SELECT count(*) FROM exports").fetchone()
        (last_job,) = conn.execute(
            "SELECT last_value FROM " + conn.execute("SELECT pg_get_serial_sequence('procrastinate_jobs', 'id')")
            .fetchone()[0]
        ).fetchone()  # fmt: skip
    return exports, last_job


def pending(cluster: Cluster, export_ids: list[int]) -> int:
    with cluster.connect() as conn:
        return conn.execute(
            "SELECT count(*) FROM exports WHERE status = 'pending' AND id = ANY(%s)", [export_ids]
        ).fetchone()[0]


def load(
    cluster: Cluster, people: list[tuple[Browser, int]], seconds: float, done: Callable[[], bool] = lambda: False
) -> Phase:
    """Each person GETs their enrolment page and evidence list in turn, through each host in turn,
    for `seconds` or until `done()`."""
    ports = [host.port for host in cluster.hosts]
    latencies: list[float] = []
    errors: Counter[int] = Counter()
    stop = time.monotonic() + seconds
    finished = threading.Event()

    def person(browser: Browser, enrolment_id: int, n: int) -> None:
        paths = [f"/enrolments/{enrolment_id}", f"/enrolments/{enrolment_id}/evidence"]
        while not finished.is_set() and time.monotonic() < stop:
            started = time.perf_counter()
            status, _, _ = browser.request("GET", paths[n % 2], port=ports[n // 2 % len(ports)])
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors[status] += 1
            n += 1

    cpu_before, restarts_before = _cpu(cluster), restarts(cluster)
    began = time.monotonic()
    threads = [threading.Thread(target=person, args=(b, e, n), daemon=True) for n, (b, e) in enumerate(people)]
    for thread in threads:
        thread.start()
    while time.monotonic() < stop and not done():
        time.sleep(0.5)
    finished.set()
    window = time.monotonic() - began
    for thread in threads:
        thread.join()
    cpu_after = _cpu(cluster)
    return Phase(
        latencies, errors, window, cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1],
        restarts(cluster) - restarts_before,
    )  # fmt: skip


def restarts(cluster: Cluster) -> int:
    """How many times a host's gunicorn has replaced a worker that served its max_requests."""
    return sum(
        "Autorestarting worker" in str(entry.get("message")) for host in cluster.hosts for entry in host.log_lines()
    )


def _cpu(cluster: Cluster) -> tuple[float, float]:
    return sum(cpu_seconds(h.pid) for h in cluster.hosts), sum(cpu_seconds(w.pid) for w in cluster.workers)


def across_hosts(cluster: Cluster, people: list[dict]) -> bool:
    """Figure 1: an upload through host 1 downloads through host 2; an export asked on host 1 is
    made by a worker and downloads through host 2."""
    first, second = (host.port for host in cluster.hosts[:2])
    person = people[0]
    browser = Browser(first)
    browser.sign_in(person["email"])
    data = b"%PDF-1.7\n%" + os.urandom(5 << 20) + b"\n%%EOF\n"
    evidence = f"/enrolments/{person['enrolment']}/evidence"
    browser.request("GET", f"{evidence}/new")
    fields = [("title", "Recording of the harbour walk"), ("kind", "photo_or_video"), ("criteria", "S5"),
              ("justification-S5", "It shows me briefing the stewards."), ("activity_date", "3"),
              ("activity_date", "11"), ("activity_date", "2025")]  # fmt: skip
    status, location, _ = browser.post_multipart(f"{evidence}/new", fields, [("harbour-walk.pdf", data)])
    item = re.search(r"/evidence/(\d+)$", location) if status == 302 else None
    same = False
    if item:
        _, _, page = browser.request("GET", f"{evidence}/{item.group(1)}", port=second)
        file_id = re.search(rb"/files/(\d+)", page)
        if file_id:
            _, _, served = browser.request(
                "GET", f"{evidence}/{item.group(1)}/files/{int(file_id.group(1))}", port=second
            )
            same = hashlib.sha256(served).digest() == hashlib.sha256(data).digest()
    print(
        f"1. a file uploaded through host 1 (HTTP {status}, {len(data) / 2**20:.1f} MB) downloads through host 2 "
        f"with the same SHA-256: {verdict(same)}"
    )

    _, export_id, _ = browser.ask_export(person["enrolment"], "zip", port=first)
    state = browser.wait_for_export(person["enrolment"], export_id, timeout=300, port=second) if export_id else "none"
    problem = "not ready"
    if state == "ready":
        status, _, body = browser.request("GET", f"/enrolments/{person['enrolment']}/exports/{export_id}/download",
                                          port=second)  # fmt: skip
        problem = export_problem("zip", body) if status == 200 else f"HTTP {status}"
    maker, seconds = made_exports(cluster).get(export_id, ("nobody", 0.0))
    by_worker = maker.startswith("worker")
    print(
        f"   a ZIP export asked on host 1 is {state}, made by {maker} in {seconds:.1f} s, and downloads through "
        f"host 2 with every CRC right: {verdict(not problem and by_worker)}" + (f" ({problem})" if problem else "")
    )
    return same and not problem and by_worker


def under_exports(cluster: Cluster, people: list[dict], large: list[dict], clients: int, seconds: float):
    """Figure 2: other users' pages without exports, then while the large portfolios' exports are made."""
    signed_in = []
    for n in range(clients):
        person = people[n % len(people)]
        browser = Browser(cluster.hosts[n % len(cluster.hosts)].port)
        browser.sign_in(person["email"])
        signed_in.append((browser, person["enrolment"]))
    load(cluster, signed_in, 3)  # warm every gunicorn worker up, uncounted
    quiet = load(cluster, signed_in, seconds)

    askers = []
    for person in large:
        browser = Browser(cluster.hosts[0].port)
        browser.sign_in(person["email"])
        browser.request("GET", f"/enrolments/{person['enrolment']}")
        askers.append((browser, person))
    asked: dict[int, tuple[Browser, dict]] = {}
    at_once = threading.Barrier(len(askers))

    def ask(browser: Browser, person: dict) -> None:
        at_once.wait()
        _, export_id, _ = browser.ask_export(person["enrolment"], "zip")
        asked[export_id] = (browser, person)

    threads = [threading.Thread(target=ask, args=pair) for pair in askers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [export_id for export_id in asked if export_id]
    busy = load(cluster, signed_in, seconds, done=lambda: pending(cluster, ids) == 0)
    still = pending(cluster, ids)

    print(f"2. other users' pages ({clients} people, enrolment page and evidence list, through both hosts):")
    print(quiet.line("without exports"))
    print(busy.line(f"while {len(large)} large ZIP exports were made ({still} still being made at the end)"))
    ratio = percentile(busy.latencies, 0.95) / percentile(quiet.latencies, 0.95)
    errors = sum(quiet.errors.values()) + sum(busy.errors.values())
    print(f"   p95 with exports / without: {ratio:.2f}x (goal: 1.5x or less): {verdict(ratio <= 1.5 and not errors)}")

    deadline = time.monotonic() + 1800
    while pending(cluster, ids) and time.monotonic() < deadline:
        time.sleep(2)
    made = made_exports(cluster)
    second = cluster.hosts[1].port
    all_right = len(ids) == len(large)
    for export_id, (browser, person) in sorted(asked.items()):
        state = browser.export_status(person["enrolment"], export_id, port=second)
        status, _, body = browser.request(
            "GET", f"/enrolments/{person['enrolment']}/exports/{export_id}/download", port=second
        )
        problem = export_problem("zip", body) if status == 200 and state == "ready" else f"{state}, HTTP {status}"
        maker, took = made.get(export_id, ("nobody", 0.0))
        right = not problem and maker.startswith("worker")
        all_right &= right
        print(
            f"   export {export_id} (enrolment {person['enrolment']}): {state}, made by {maker} in {took:.0f} s, "
            f"{len(body) / 2**20:.0f} MB through host 2, every CRC right: {verdict(right)}"
            + (f" ({problem})" if problem else "")
        )
    by_hosts = [export_id for export_id, (maker, _) in made.items() if maker.startswith("host")]
    print(f"   no host made an export (their logs have no export job): {verdict(not by_hosts)}")
    return all_right and not by_hosts, asked


def asking_again(cluster: Cluster, asked: dict[int, tuple[Browser, dict]], repeats: int) -> bool:
    """Figure 3: the second ask for an unchanged portfolio, against its enrolment page."""
    ports = [host.port for host in cluster.hosts]
    asks, pages, answers = [], [], Counter()
    before = exports_and_jobs(cluster)
    for n in range(repeats):
        for export_id, (browser, person) in asked.items():
            port = ports[n % len(ports)]
            page = f"/enrolments/{person['enrolment']}"
            started = time.perf_counter()
            browser.request("GET", page, port=port)
            pages.append(time.perf_counter() - started)
            started = time.perf_counter()
            status, location, _ = browser.post(f"{page}/exports/zip", [], port=port)
            asks.append(time.perf_counter() - started)
            answers["the export made" if location.endswith(f"/exports/{export_id}/download") else location] += 1
    after = exports_and_jobs(cluster)
    median, p95 = statistics.median(asks) * 1000, percentile(asks, 0.95) * 1000
    page = statistics.median(pages) * 1000
    print(
        f"3. asking again for an unchanged large portfolio ({len(asks)} asks, both hosts): median {median:.0f} ms, "
        f"p95 {p95:.0f} ms (goal: under 50 ms): {verdict(median < 50)}"
    )
    print(f"   the same portfolio's enrolment page: median {page:.0f} ms; the ask takes {median / page:.2f}x that")
    same = answers == Counter({"the export made": len(asks)})
    print(f"   every ask answered with the export already made: {verdict(same)} ({dict(answers)})")
    unchanged = before == after
    print(
        f"   export rows and the queue's last job id before and after: {before} and {after}, no render: "
        f"{verdict(unchanged)}"
    )
    return same and unchanged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    database_options(parser, hosts=2, workers=3)
    parser.add_argument("--users", type=int, default=6, help="apprentices whose pages are read (default 6)")
    parser.add_argument("--clients", type=int, default=6, help="people reading at once (default 6)")
    parser.add_argument("--seconds", type=float, default=30, help="length of each phase of the load (default 30)")
    parser.add_argument("--large", type=int, default=3, help="large portfolios exported at once (default 3)")
    parser.add_argument("--large-items", type=int, default=100, help="evidence items of each (default 100)")
    parser.add_argument("--large-images", type=int, default=40, help="of which with a photo (default 40)")
    parser.add_argument("--repeats", type=int, default=10, help="asks again of each large portfolio (default 10)")
    parser.add_argument("--worker-nice", type=int, default=0, help="run the workers at this nice level (default 0)")
    parser.add_argument(
        "--max-requests", type=int, help="gunicorn's max_requests (default: gunicorn.conf.py's; 0: never restart)"
    )
    args = parser.parse_args()
    if args.hosts < 2:
        parser.error("--hosts must be 2 or more")
    started = time.monotonic()
    settings = {} if args.max_requests is None else {"GUNICORN_MAX_REQUESTS": str(args.max_requests)}
    with Cluster(args.server, args.hosts, args.workers, s3=True, settings=settings, keep=args.keep) as cluster:
        people = cluster.setup(
            *("--apprentices", str(args.users), "--items", "10", "--large", str(args.large)),
            *("--large-items", str(args.large_items), "--large-images", str(args.large_images)),
        )
        small = [p for p in people if p.get("kind") == "small"]
        large = [p for p in people if p.get("kind") == "large"]
        cluster.serve(worker_nice=args.worker_nice)
        print(f"two hosts: {cluster.where()}")
        load_average = os.getloadavg()[0]
        print(
            f"   built in {time.monotonic() - started:.0f} s; this machine: {os.cpu_count()} cores shared with "
            f"other work, load average {load_average:.1f}"
            + (f"; workers at nice {args.worker_nice}" if args.worker_nice else "")
            + ("" if args.max_requests is None else f"; gunicorn's max_requests {args.max_requests}")
        )
        right = across_hosts(cluster, small)
        exports_right, asked = under_exports(cluster, small, large, args.clients, args.seconds)
        again_right = asking_again(cluster, asked, args.repeats) if asked else False
    failed = not (right and exports_right and again_right)
    print("RESULT: " + ("FAILED: a correctness check failed" if failed else "every correctness check passed"))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
