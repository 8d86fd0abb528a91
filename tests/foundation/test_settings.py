"""Production settings pass `check --deploy`; the demo defaults are safe."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env_extra):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_PRODUCTION", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_PRODUCTION": "1",
            "SECRET_KEY": "x" * 20 + "production-secret-with-enough-entropy-4f9a8b7c6d5e",
            "ALLOWED_HOSTS": "claims.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", env_extra={"DJANGO_PRODUCTION": "1", "SECRET_KEY": "", "ALLOWED_HOSTS": "x"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_no_migrations_are_missing():
    result = run_manage("makemigrations", "--check", "--dry-run", env_extra={})
    assert result.returncode == 0, result.stdout + result.stderr
