"""Settings, read from environment variables with safe defaults.

The defaults run the demo (SQLite file, eager Celery). Production sets
``DJANGO_PRODUCTION=1`` plus ``SECRET_KEY``, ``DATABASE_URL`` and ``ALLOWED_HOSTS``;
that mode passes ``manage.py check --deploy`` without warnings.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_bool("DJANGO_PRODUCTION")
DEBUG = env_bool("DEBUG", default=not PRODUCTION)

_DEMO_SECRET = "demo-only-insecure-secret-key-change-me-in-production-0123456789"  # noqa: S105 (demo only; production requires SECRET_KEY)
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEMO_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DJANGO_PRODUCTION=1")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_fsm_log",
    # Our apps, one per domain (docs/ARCHITECTURE.md). Dependencies point one way:
    # core <- accounts <- incidents <- sla; merchants; losses -> incidents, merchants;
    # claims -> losses; settlements -> claims.
    "core",
    "accounts",
    "incidents",
    "sla",
    "merchants",
    "losses",
    "claims",
    "settlements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'demo.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# Read-only reports (ledger, recovery, dashboards) may run on a PostgreSQL streaming replica;
# writes, migrations and everything else stay on "default" (core/db.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db.ReplicaRouter"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: English and Simplified Chinese, switchable in the UI.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    # Files (evidence, issued documents) on local disk, or on S3-compatible storage when
    # STORAGE_S3_BUCKET is set (core/storage.py reads the STORAGE_S3_* variables).
    "default": __import__("core.storage", fromlist=["default_storage_from_env"]).default_storage_from_env(os.environ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", BASE_DIR / "demo-mail")  # for the file-based backend
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "claims@example.com")

# Django REST framework and the OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Merchant claims and SLA compensation API",
    "DESCRIPTION": "Incidents, SLA evaluations, merchant claims and settlements.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets served locally (drf-spectacular-sidecar), no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "IncidentStateEnum": "incidents.models.IncidentState",
        "ImpactEnum": "incidents.models.Impact",
        "CauseEnum": "incidents.models.Cause",
        "ClaimStateEnum": "claims.models.ClaimState",
        "ClaimReasonCodeEnum": "claims.models.ReasonCode",
        "ClaimDecisionReasonEnum": "claims.serializers.DECISION_CHOICES",
        "ClaimDisputeReasonEnum": "claims.serializers.DISPUTE_CHOICES",
        # Fields named "state" / "kind" with different choice sets: one name per choices class.
        "SettlementBatchStateEnum": "settlements.models.BatchState",
        "ProviderCreditClaimStateEnum": "sla.models.CreditClaimState",
        "IssuedDocumentKindEnum": "settlements.models.DocumentKind",
        "ClaimDocumentKindEnum": "claims.models.ClaimDocument.Kind",
        "ClaimEventKindEnum": "claims.models.ClaimEvent.Kind",
        "IncidentUpdateKindEnum": "incidents.models.IncidentUpdate.Kind",
    },
}

# Celery: Redis broker; eager only for the demo (CELERY_TASK_ALWAYS_EAGER=1).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue per kind of work, so each can get its own workers (and hosts) and concurrency:
#   celery -A config worker -Q documents -c 2   (PDF rendering: CPU-bound)
#   celery -A config worker -Q recompute -c 4   (loss and SLA recomputation: database-bound)
#   celery -A config worker -Q imports -c 1     (bulk files)
#   celery -A config worker -Q beat,celery -c 2 (scheduled sweeps and anything unrouted)
# A worker started without -Q consumes every queue (the single-machine setup).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    __import__("kombu").Queue(name) for name in ("celery", "documents", "recompute", "imports", "beat")
]
CELERY_TASK_ROUTES = {
    "settlements.issue_document": {"queue": "documents"},
    "settlements.issue_monthly_statements": {"queue": "beat"},
    "claims.tasks.recompute_incident_claims": {"queue": "recompute"},
    "sla.recompute_for_incident": {"queue": "recompute"},
    "incidents.tasks.import_incidents_file": {"queue": "imports"},
    "sla.nightly_evaluate": {"queue": "beat"},
    "claims.tasks.expire_claims": {"queue": "beat"},
    "claims.tasks.send_expiry_reminders": {"queue": "beat"},
}
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["sla-nightly-evaluate"] = {  # 02:30 every night, in CELERY_TIMEZONE
    "task": "sla.nightly_evaluate",
    "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(hour=2, minute=30),
}
# Claim workflow: expire unanswered proposals/info requests, and remind 3 days before (claims/tasks.py).
CELERY_BEAT_SCHEDULE["claims-expire"] = {"task": "claims.tasks.expire_claims", "schedule": 15 * 60}
CELERY_BEAT_SCHEDULE["claims-expiry-reminders"] = {"task": "claims.tasks.send_expiry_reminders", "schedule": 60 * 60}
# Monthly merchant statements of last month (merchant time zone); daily so a missed day catches up,
# idempotent: an existing statement gets no new version (settlements/tasks.py).
CELERY_BEAT_SCHEDULE["finance-monthly-statements"] = {
    "task": "settlements.issue_monthly_statements",
    "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(hour=3, minute=15),
}

# Claim workflow rules (claims/config.py has the defaults). The demo widens the
# filing window because its incidents have fixed dates in October and November 2026.
if os.environ.get("CLAIMS_FILING_WINDOW_DAYS"):
    CLAIMS_FILING_WINDOW_DAYS = int(os.environ["CLAIMS_FILING_WINDOW_DAYS"])

# Incident webhooks: a request whose timestamp is further than this from now is refused.
INCIDENT_WEBHOOK_TOLERANCE_SECONDS = 300

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

if PRODUCTION:
    # WhiteNoise serves the collected static files in production, right after security.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
