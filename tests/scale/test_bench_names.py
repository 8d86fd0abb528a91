"""The benchmarks drop their database at exit, so its name must never collide with a real one."""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("_dbname", Path(__file__).resolve().parents[2] / "bench" / "_dbname.py")
_dbname = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_dbname)
bench_database_name = _dbname.bench_database_name


def test_named_after_database_url_with_default_prefix():
    assert bench_database_name("claims", environ={}) == "bench_claims"
    assert bench_database_name("claims", "sla", environ={}) == "bench_claims_sla"


def test_prefix_from_environment_keeps_runs_apart():
    env = {"BENCH_DATABASE_PREFIX": "alice_"}
    assert bench_database_name("claims", environ=env) == "alice_claims"
    assert bench_database_name("claims", "statements", environ=env) == "alice_claims_statements"


def test_empty_prefix_would_drop_the_real_database():
    with pytest.raises(ValueError, match="must not be empty"):
        bench_database_name("claims", environ={"BENCH_DATABASE_PREFIX": ""})


def test_name_postgresql_would_truncate_is_refused():
    with pytest.raises(ValueError, match="63 bytes"):
        bench_database_name("c" * 60, "statements", environ={})
