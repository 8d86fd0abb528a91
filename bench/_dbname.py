"""Names of the benchmarks' throw-away databases (no Django import, so any script can use it).

A benchmark creates its database from the DATABASE_URL one and drops it at exit, so the name
must never be a database somebody else uses: ``<prefix><DATABASE_URL name>[_<purpose>]`` with
the prefix from ``BENCH_DATABASE_PREFIX`` (default ``bench_``). Two runs against one server
(say two checkouts) stay apart by giving each its own prefix.
"""

import os

DEFAULT_PREFIX = "bench_"


def bench_database_name(base: str, purpose: str = "", environ=None) -> str:
    prefix = (os.environ if environ is None else environ).get("BENCH_DATABASE_PREFIX", DEFAULT_PREFIX)
    if not prefix:
        raise ValueError("BENCH_DATABASE_PREFIX must not be empty: the benchmark drops its database at exit")
    name = f"{prefix}{base}" + (f"_{purpose}" if purpose else "")
    if len(name.encode()) > 63:  # PostgreSQL would silently truncate it, possibly onto another name
        raise ValueError(f"benchmark database name {name!r} is longer than PostgreSQL's 63 bytes")
    return name
