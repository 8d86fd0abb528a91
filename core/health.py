"""Health of the web process's dependencies, for a load balancer's check (``/healthz``)."""

from django.conf import settings
from django.db import connection

OK = "ok"
SKIPPED = "skipped"  # the demo runs Celery eagerly, without Redis or a worker


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 (any failure is the answer)
        return f"error: {type(exc).__name__}"
    return OK


def check_redis() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return SKIPPED
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    return OK


def check_celery(timeout: float = 1.0) -> str:
    """At least one worker answers a broadcast ping within ``timeout`` seconds."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return SKIPPED
    from config.celery import app

    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    return OK if replies else "error: no worker answered"


def report() -> tuple[bool, dict[str, str]]:
    checks = {"database": check_database(), "redis": check_redis()}
    # Without Redis the ping cannot travel; say so instead of waiting for it.
    checks["celery"] = check_celery() if checks["redis"] in (OK, SKIPPED) else "error: no broker"
    return all(v in (OK, SKIPPED) for v in checks.values()), checks
