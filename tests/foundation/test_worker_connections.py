"""A real worker process keeps one health-checked PostgreSQL connection across tasks."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from claims.tasks import recompute_incident_claims

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "connection-reuse-test"


def worker_backends() -> set[int]:
    """PostgreSQL backends on the test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


def run_task():
    return recompute_incident_claims.apply_async(args=[10**9], queue=QUEUE).get(timeout=60)


def test_worker_reuses_its_connection_and_survives_a_dropped_one():
    s = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "",
    }
    others = worker_backends()  # e.g. a live server's kept connections from earlier tests
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", QUEUE, "-l", "WARNING"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        assert run_task() == {"missing": 10**9}
        first = worker_backends() - others
        assert len(first) == 1  # the worker's connection stays open between tasks
        for _ in range(3):
            assert run_task() == {"missing": 10**9}
        assert worker_backends() - others == first  # ... and serves the next tasks: no backend per task

        with connection.cursor() as cursor:  # the database drops the worker's connection
            cursor.execute("SELECT pg_terminate_backend(%s)", [next(iter(first))])
        time.sleep(0.5)
        assert run_task() == {"missing": 10**9}  # health check: a fresh connection, not an error
        after = worker_backends() - others
        assert len(after) == 1 and after != first
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
