"""Jobs run once their transaction commits, never for one rolled back; on PostgreSQL through procrastinate."""

from __future__ import annotations

import itertools
import logging

import psycopg
import pytest
from sqlalchemy import text

from portfolio.core import jobs
from portfolio.core.jobs import Job, JobList, Queue, due_ticks
from portfolio.extensions import db
from tests.helpers import in_a_thread, run_jobs

ran: list[dict] = []
probe = JobList()


@probe.job("tests.note", attempts=1)
def note(**arguments) -> None:
    logging.getLogger("tests.jobs").info("noted %s", arguments)
    ran.append(arguments)


@pytest.fixture
def queue(app) -> Queue:
    """The app's queue with the probe job added beside the real ones."""
    ran.clear()
    queue = Queue(app, [*app.extensions["queue"].jobs.values(), *probe.jobs])
    app.extensions["queue"] = queue
    return queue


def _jobs_in_the_table(database_url: str) -> int:
    with psycopg.connect(database_url) as other:  # another connection: sees only what was committed
        return other.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'tests.note'").fetchone()[0]


def test_a_job_runs_only_after_its_transaction_commits(app, queue, database_url):
    jobs.defer("tests.note", colour="amber")
    db.session.execute(text("SELECT 1"))
    if queue.on_postgresql:
        assert _jobs_in_the_table(database_url) == 0
    run_jobs(app)
    assert ran == []
    db.session.commit()
    if queue.on_postgresql:
        assert _jobs_in_the_table(database_url) == 1
    run_jobs(app)
    assert ran == [{"colour": "amber"}]


def test_a_job_asked_for_in_a_rolled_back_transaction_never_runs(app, queue, database_url):
    jobs.defer("tests.note", colour="teal")
    db.session.rollback()
    db.session.commit()
    run_jobs(app)
    assert ran == []
    if queue.on_postgresql:
        assert _jobs_in_the_table(database_url) == 0


def test_an_unknown_job_is_refused_at_once(app, queue):
    with pytest.raises(LookupError):
        jobs.defer("tests.no_such_job")


def test_a_job_logs_with_its_id_and_the_id_of_the_request_that_asked(app, queue, caplog):
    from portfolio.core import logs

    with caplog.at_level(logging.INFO, logger="tests.jobs"):
        with app.test_request_context(headers={"X-Request-ID": "req-lantern-42"}):
            logs.start_request()
            jobs.defer("tests.note", colour="indigo")
            db.session.commit()
        run_jobs(app)
    (line,) = [record for record in caplog.records if record.name == "tests.jobs"]
    assert line.request_id == "req-lantern-42"
    assert line.task == "tests.note" and line.job_id
    assert ran == [{"colour": "indigo"}]  # the id travels beside the arguments, not in them


def test_the_periodic_jobs_come_in_the_order_of_their_ticks():
    hourly = Job("hourly", run=lambda: None, cron="7 * * * *")
    nightly = Job("nightly", run=lambda: None, cron="23 3 * * *")
    slept: list[float] = []
    start = 1_767_225_600.0  # 2026-01-01 00:00 UTC
    clock = itertools.count()
    ticks = due_ticks([hourly, nightly], start, sleep=lambda seconds: slept.append(next(clock)))
    names = [next(ticks).name for _ in range(5)]
    assert names == ["hourly", "hourly", "hourly", "hourly", "nightly"]  # 00:07, 01:07, 02:07, 03:07, 03:23


def test_the_worker_command_runs_what_is_waiting_and_stops(app, queue, runner):
    jobs.defer("tests.note", colour="ochre")
    db.session.commit()
    # --niceness 0: lowering the priority would slow the rest of this test run.
    result = in_a_thread(lambda: runner.invoke(args=["worker", "--until-empty", "--niceness", "0"]))
    assert result.exit_code == 0, result.output
    assert ran == [{"colour": "ochre"}]


def test_the_app_declares_its_jobs_and_their_schedules(app):
    declared = {job.name: job.cron for job in app.extensions["queue"].jobs.values()}
    assert declared == {
        "exports.make": None,
        "exports.expire": "7 * * * *",
        "evidence.sweep": "23 3 * * *",
        "evidence.read_file": None,
        "evidence.read_files": "*/15 * * * *",
        "mail.send": "* * * * *",
        "notifications.digest": "0 7 * * *",
        "reminders.send": "17 * * * *",
        "auth.send_password_reset": None,
        "signing.expire": "17 * * * *",
    }


def test_the_job_of_a_worker_that_stopped_beating_goes_back_on_the_queue(app, queue, database_url):
    if not queue.on_postgresql:
        pytest.skip("procrastinate's workers: PostgreSQL")
    import asyncio
    from types import SimpleNamespace

    from portfolio.core.jobs import _retry_stalled

    jobs.defer("tests.note", colour="umber")
    db.session.commit()
    with psycopg.connect(database_url, autocommit=True) as other:  # a worker took it, then died
        (worker,) = other.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        ).fetchone()
        other.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", (worker,))
    run_jobs(app)
    assert ran == []  # stuck: no worker takes a job that is 'doing'

    async def retry() -> None:
        procrastinate_app = queue.procrastinate_app()
        async with procrastinate_app.open_async():
            await _retry_stalled(SimpleNamespace(app=procrastinate_app), timestamp=0)

    in_a_thread(lambda: asyncio.run(retry()))
    run_jobs(app)
    assert ran == [{"colour": "umber"}]


def test_a_worker_gives_way_to_web_servers_on_the_same_host_unless_told_otherwise():
    from portfolio.cli import worker_command

    (niceness,) = [option for option in worker_command.params if option.name == "niceness"]
    assert niceness.default == 19
