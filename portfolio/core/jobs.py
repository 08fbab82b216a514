"""Long work as jobs on a queue: procrastinate on PostgreSQL, a thread of this process on SQLite.

Each feature lists its jobs in its `tasks.py` on a `JobList` (as views go on a blueprint), and the
app factory hands the lists to `init_app`. `defer(job, **arguments)` asks for one:

- on PostgreSQL it is written by the caller's own transaction, so it exists if and only if that
  transaction commits; `portfolio worker`, any number of them on any host, runs it, and runs the
  periodic jobs (procrastinate defers each tick once, whichever worker sees it first);
- on the embedded SQLite database it runs on a thread of this process once the caller commits,
  and the periodic jobs run on a timer there, so `portfolio demo` needs nothing more.

A job runs in an app context of its own (its own database session) and takes JSON values.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import croniter
import procrastinate
from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from ..extensions import db
from . import logs, metrics

logger = logging.getLogger(__name__)

_AFTER_COMMIT = "portfolio.jobs_after_commit"  # in Session.info: jobs for the in-process runner
_QUEUE_DEPTH = "SELECT status, count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') GROUP BY status"
IN_PROCESS_ATTEMPTS_WAIT = 2.0  # seconds between attempts of a job that raised, on SQLite
# Workers beat every 10 s (procrastinate's default); one silent for this long is taken for dead.
STALLED_AFTER_SECONDS = 120
STALLED_CRON = "*/5 * * * *"
RETRY_STALLED = "jobs.retry_stalled"
REQUEST_ID_ARGUMENT = "_request_id"  # added to a job's arguments: the request that asked for it


@dataclass(frozen=True)
class Job:
    """A named piece of work. Calling it runs it here and now (the command line does)."""

    name: str
    run: Callable[..., Any]
    attempts: int = 1  # runs before it is given up; a job must be safe to run again
    cron: str | None = None  # periodic: a cron line, in UTC

    def __call__(self, **arguments: Any) -> Any:
        return self.run(**arguments)


@dataclass
class JobList:
    """The jobs of one feature, declared with the `job` decorator."""

    jobs: list[Job] = field(default_factory=list)

    def job(self, name: str, *, attempts: int = 1, cron: str | None = None) -> Callable[[Callable[..., Any]], Job]:
        def register(func: Callable[..., Any]) -> Job:
            declared = Job(name=name, run=func, attempts=attempts, cron=cron)
            self.jobs.append(declared)
            return declared

        return register


class Queue:
    """The jobs of one application and where they run."""

    def __init__(self, app: Flask, jobs: Iterable[Job]) -> None:
        self.app = app
        self.jobs = {job.name: job for job in jobs}
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.on_postgresql = url.startswith("postgresql")
        # The libpq form of the app's URL, for procrastinate's own connections (the worker's).
        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._deferrer = self.procrastinate_app() if self.on_postgresql else None
        self.runner = None if self.on_postgresql else InProcessRunner(self)

    def procrastinate_app(self, *, periodic: bool = True) -> procrastinate.App:
        """A procrastinate app knowing every job, each running in an app context of this Flask app."""
        connector = procrastinate.PsycopgConnector(conninfo=self.conninfo, min_size=1, max_size=4)
        queue = procrastinate.App(connector=connector)
        for job in self.jobs.values():
            retry = procrastinate.RetryStrategy(max_attempts=job.attempts - 1, wait=30) if job.attempts > 1 else False
            task = queue.task(name=job.name, retry=retry, pass_context=True)(self._runner_of(job))
            if job.cron and periodic:
                queue.periodic(cron=job.cron, periodic_id=job.name)(task)
        if periodic:
            queue.periodic(cron=STALLED_CRON, periodic_id=RETRY_STALLED)(
                queue.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED, pass_context=True)(_retry_stalled)
            )
        return queue

    def _runner_of(self, job: Job) -> Callable[..., None]:
        def run(context: procrastinate.JobContext, **arguments: Any) -> None:
            arguments.pop("timestamp", None)  # procrastinate gives periodic jobs their tick
            self.run(job, arguments, job_id=context.job.id)

        run.__name__ = job.name.replace(".", "_")
        return run

    def run(self, job: Job, arguments: dict[str, Any], *, job_id: int | str | None = None) -> None:
        """Run `job` once, in an app context of its own, its log lines carrying its id and the id of
        the request that asked for it; what it raises propagates."""
        arguments = dict(arguments)
        request_id = arguments.pop(REQUEST_ID_ARGUMENT, None)
        started = time.perf_counter()
        outcome = "failed"
        with self.app.app_context(), logs.job_context(job_id or "in-process", job.name, request_id):
            try:
                job.run(**arguments)
                outcome = "succeeded"
            except BaseException:
                db.session.rollback()
                logger.exception("Job %s %s failed after %.1f s", job.name, arguments, time.perf_counter() - started)
                raise
            finally:
                metrics.JOB_DURATION_SECONDS.labels(job.name, outcome).observe(time.perf_counter() - started)
            logger.info("Job %s %s done in %.1f s", job.name, arguments, time.perf_counter() - started)

    def defer(self, session: Session, name: str, arguments: dict[str, Any]) -> None:
        job = self.jobs.get(name)
        if job is None:
            raise LookupError(f"no job named {name!r} in this application")
        if request_id := logs.current_request_id():
            arguments = {**arguments, REQUEST_ID_ARGUMENT: request_id}
        # The session's own transaction, begun if need be: the job comes (and goes) with it.
        connection = session.connection()
        if self._deferrer is not None:
            self._deferrer.configure_task(job.name, connection=connection.connection.driver_connection).defer(
                **arguments
            )
        else:
            session.info.setdefault(_AFTER_COMMIT, []).append((self, job, arguments))

    def work(self, *, concurrency: int = 1, until_empty: bool = False) -> None:
        """Run jobs as they come, with the periodic ones on their schedule; or, `until_empty`, the
        jobs waiting now and then return (no periodic ones: they are not due on demand)."""
        if self.runner is not None:
            if until_empty:
                self.runner.wait()
                return
            self.runner.start_timer()
            threading.Event().wait()  # the timer thread does the work; stopped by a signal
            return
        worker = self.procrastinate_app(periodic=not until_empty)
        worker.run_worker(
            concurrency=concurrency,
            wait=not until_empty,
            install_signal_handlers=not until_empty,
            delete_jobs="successful",  # failed ones stay, for `procrastinate` to show and retry
        )

    def periodic_jobs(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.cron]

    def depth(self) -> dict[str, int]:
        """Jobs waiting and running, by status (the metrics read this)."""
        if self.runner is not None:
            return {"todo": self.runner.waiting}
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT status, count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') GROUP BY status"
                )
            ).all()
        return {status: count for status, count in rows}


async def _retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
    """Put back on the queue the jobs of workers that stopped beating (killed, or their host lost),
    which would otherwise stay 'doing' for ever; every job is safe to run again."""
    manager = context.app.job_manager
    for stalled in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        logger.warning("Job %s %s of a stopped worker goes back on the queue", stalled.id, stalled.task_name)
        await manager.retry_job(stalled)


class InProcessRunner:
    """Runs jobs on one thread of this process, in the order their transactions committed."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portfolio-job")
        self._futures: set[Future] = set()
        self._lock = threading.Lock()
        self._timer: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(1 for future in self._futures if not future.done())

    def submit(self, job: Job, arguments: dict[str, Any]) -> None:
        future = self._executor.submit(self._attempts, job, arguments)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def _attempts(self, job: Job, arguments: dict[str, Any]) -> None:
        for attempt in range(1, job.attempts + 1):
            try:
                self.queue.run(job, arguments)
                return
            except Exception:
                if attempt == job.attempts:
                    return  # logged by Queue.run; a job must record its own failure where users see it
                time.sleep(IN_PROCESS_ATTEMPTS_WAIT)

    def wait(self, timeout: float = 60) -> None:
        """Return once every job submitted so far has finished (tests and the command line wait)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [future for future in self._futures if not future.done()]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} jobs still running after {timeout} s")
            pending[0].result(timeout=max(0.0, deadline - time.monotonic()))

    def start_timer(self) -> None:
        """Run the periodic jobs on their schedule, on a daemon thread of this process (once)."""
        with self._lock:
            if self._timer is not None or not self.queue.periodic_jobs():
                return
            self._timer = threading.Thread(target=self._tick_forever, name="portfolio-periodic", daemon=True)
        self._timer.start()

    def _tick_forever(self) -> None:
        for job in due_ticks(self.queue.periodic_jobs(), time.time(), sleep=time.sleep):
            self.submit(job, {})


def due_ticks(jobs: list[Job], start: float, *, sleep: Callable[[float], None]) -> Iterator[Job]:
    """The periodic jobs as their ticks come, from `start` on, sleeping in between."""
    schedules = {job.name: croniter.croniter(job.cron, start) for job in jobs}
    next_at = {name: schedule.get_next(float) for name, schedule in schedules.items()}
    by_name = {job.name: job for job in jobs}
    while True:
        name = min(next_at, key=next_at.__getitem__)
        sleep(max(0.0, next_at[name] - time.time()))
        yield by_name[name]
        next_at[name] = schedules[name].get_next(float)


def init_app(app: Flask, job_lists: Iterable[JobList]) -> None:
    queue = Queue(app, [job for job_list in job_lists for job in job_list.jobs])
    app.extensions["queue"] = queue
    metrics.set_queue_depth_reader(lambda: {("default", status): count for status, count in queue.depth().items()})
    if queue.runner is not None and not app.testing:
        runner = queue.runner
        app.before_request(lambda: runner.start_timer())


def queue() -> Queue:
    return current_app.extensions["queue"]


def defer(name: str, /, **arguments: Any) -> None:
    """Ask for the job `name` to run with `arguments`, once the current transaction commits."""
    queue().defer(db.session(), name, arguments)


@event.listens_for(Session, "after_commit")
def _submit_after_commit(session: Session) -> None:
    for runner_queue, job, arguments in session.info.pop(_AFTER_COMMIT, ()):
        assert runner_queue.runner is not None
        runner_queue.runner.submit(job, arguments)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_AFTER_COMMIT, None)
