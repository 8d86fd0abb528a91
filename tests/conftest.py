"""Shared fixtures: users per role, a real Celery worker, a real headless Chromium."""

import os
from pathlib import Path

import pytest
from django.conf import settings

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"The tests run on PostgreSQL only (DATABASE_URL gave {engine}); use `make test`.")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        _own_redis_database(int(worker.removeprefix("gw")))


def _own_redis_database(worker: int) -> None:
    """Under pytest-xdist each worker process gets its own Redis database (pytest-django already
    gives it its own PostgreSQL database): otherwise one worker's Celery worker would take the
    other's tasks and one test's throttle reset would clear the other's counters. The environment
    is changed too, so the Celery workers that tests start as subprocesses follow."""
    from urllib.parse import urlsplit

    from config.celery import app

    broker = urlsplit(settings.CELERY_BROKER_URL)
    database = (int(broker.path.strip("/") or 0) - 1 - worker) % 16
    url = broker._replace(path=f"/{database}").geturl()
    os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = os.environ["CACHE_URL"] = url
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    app.conf.broker_url = app.conf.result_backend = url
    if "redis" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES["default"]["LOCATION"] = url


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request in zh-hans (LocaleMiddleware) would
    otherwise leave Chinese active in the thread for the next test's commands and services."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Each test starts with empty API throttle counters (they live in Redis, across tests)."""
    from django.core.cache import cache

    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        cache.clear()  # the in-memory cache of a run without Redis
    else:
        redis = client.get_client(write=True)
        for key in redis.scan_iter(match=cache.make_key("throttle_*")):
            redis.delete(key)
    yield


@pytest.fixture
def make_user(db):
    """Create a user with roles and merchant memberships: make_user("ann", "merchant", merchants=[m])."""

    from tests.factories import UserFactory

    def _make(username, *role_names, merchants=(), password="pw-secret-123"):
        return UserFactory(username=username, roles=role_names, merchants=merchants, password=password)

    return _make


@pytest.fixture
def support_user(make_user):
    return make_user("sam-support", "support")


@pytest.fixture
def support_user_2(make_user):
    return make_user("sue-support", "support")


@pytest.fixture
def finance_user(make_user):
    return make_user("fay-finance", "finance")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def celery_worker_thread(transactional_db):
    """A real Celery worker in a thread, consuming from the Redis broker of the settings."""
    from celery.contrib.testing.worker import start_worker
    from django.db import connections

    from config.celery import app

    app.conf.task_always_eager = False
    # The worker keeps its connection between tasks (CONN_MAX_AGE); in tests it must close it
    # after each task, or the test database could not be dropped at the end of the session.
    database = connections.settings["default"]
    max_age, database["CONN_MAX_AGE"] = database["CONN_MAX_AGE"], 0
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        database["CONN_MAX_AGE"] = max_age


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (Debian's package, never downloaded)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Save a screenshot of a page under artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def _shot(page, name):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def browser_login(page, username, password="pw-secret-123"):
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
