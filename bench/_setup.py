"""Shared set-up of the benchmarks: Django on a throw-away database named after the
DATABASE_URL database (``bench_<name>``, created and migrated here, dropped at exit), so a
benchmark never touches real data and needs nothing prepared. Not ``test_<name>``: that is
the test suite's database, which a benchmark run beside ``make test`` would otherwise drop.
``BENCH_DATABASE_PREFIX`` sets another prefix (see ``_dbname``)."""

import atexit
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from _dbname import bench_database_name  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    sys.exit("Run the benchmarks with DATABASE_URL=postgres://…")

connection.settings_dict.setdefault("TEST", {})["NAME"] = bench_database_name(connection.settings_dict["NAME"])
_original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
atexit.register(connection.creation.destroy_test_db, _original_name, verbosity=0)
