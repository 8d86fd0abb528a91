"""Shared set-up of the loss benchmarks: Django on a throw-away copy of the DATABASE_URL
database (``bench_<name>``, created and migrated here, dropped at exit), so a benchmark
never touches real data and needs nothing prepared. Not ``test_<name>``: that is the test
suite's database, which a benchmark run beside ``make test`` would otherwise drop."""

import atexit
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    sys.exit("Run the benchmarks with DATABASE_URL=postgres://…")

connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{connection.settings_dict['NAME']}"
_original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
atexit.register(connection.creation.destroy_test_db, _original_name, verbosity=0)
