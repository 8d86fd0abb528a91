"""Shared set-up of the loss benchmarks: Django on the DATABASE_URL database."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    sys.exit("Run the benchmarks with DATABASE_URL=postgres://…")
