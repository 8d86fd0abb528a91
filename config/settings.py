"""Settings, read from environment variables with safe defaults.

The defaults run the demo (SQLite file, eager Celery). Production sets
``DJANGO_PRODUCTION=1`` plus ``SECRET_KEY``, ``DATABASE_URL`` and ``ALLOWED_HOSTS``;
that mode passes ``manage.py check --deploy`` without warnings.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

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
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEMO_SECRET):
    raise RuntimeError("SECRET_KEY must be set (and not the demo key) when DJANGO_PRODUCTION=1")
if PRODUCTION and DEBUG:
    raise RuntimeError("DEBUG must be off when DJANGO_PRODUCTION=1")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "axes",
    # Our apps, one per domain (docs/ARCHITECTURE.md). Dependencies point one way:
    # core <- accounts <- incidents <- sla; merchants; losses -> incidents, merchants;
    # claims -> losses; settlements -> claims.
    "core",
    "accounts",
    "incidents",
    "telemetry",
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
    "core.middleware.ContentSecurityPolicyMiddleware",
    "core.middleware.ApplicationErrorMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

# Login brute force (django-axes): after AXES_FAILURE_LIMIT failures for one username, or
# from one IP address, logins from there are refused for AXES_COOLOFF_MINUTES, on the login
# page and in the admin alike. A successful login resets the user's count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a proxy the client address is the first of X-Forwarded-For (AXES_IPWARE_* settings).
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0)) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Content-Security-Policy of every response (core.middleware): our pages load nothing from
# other origins and run no inline script; style attributes in the templates need inline styles.
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

ROOT_URLCONF = "config.urls"

# Forms render with the project's templates: templates/django/forms/p.html puts each field's
# errors under its own label, not above the next field's paragraph.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "claims.context_processors.notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'demo.sqlite3'}"
# Persistent connections (web and worker) with a health check before reuse: after the database
# dropped connections, the next request or task gets a fresh one instead of an error.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", 600)), conn_health_checks=True
    )
}
# Read-only reports (ledger, recovery, dashboards) may run on a PostgreSQL streaming replica;
# writes, migrations and everything else stay on "default" (core/db.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", 600)),
        conn_health_checks=True,
    )
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
# One date format per language and grouped amounts ({{ value|money }}); see core/formats.
FORMAT_MODULE_PATH = ["core.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# PDF documents draw Chinese with a subset of the system's Noto Sans CJK built once into this
# directory (settlements/pdf_fonts.py); PDF_FONT_SUBSET=0 makes them subset the full font per
# document, as WeasyPrint does by default.
PDF_FONT_SUBSET = env_bool("PDF_FONT_SUBSET", True)
PDF_FONT_CACHE_DIR = Path(
    os.environ.get("PDF_FONT_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "claims-pdf-fonts"
)
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
# Where the site is reached from outside: links in e-mails are built on it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Django REST framework and the OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Per signed-in user (session or token) and per client address; the webhook has its own
    # scope per source. Counted in the shared cache (Redis), so every web process sees them.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttles.UserThrottle", "core.throttles.AnonThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_RATE_USER", "1200/min"),
        "anon": os.environ.get("API_RATE_ANON", "60/min"),
        "webhook": os.environ.get("API_RATE_WEBHOOK", "300/min"),
    },
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
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.staff_only_fields_optional",
        "config.schema.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "IncidentStateEnum": "incidents.models.IncidentState",
        "ImpactEnum": "incidents.models.Impact",
        "CauseEnum": "incidents.models.Cause",
        "ClaimStateEnum": "claims.models.ClaimState",
        "ClaimReasonCodeEnum": "claims.models.ReasonCode",
        "ClaimApproveReasonEnum": "claims.serializers.APPROVE_CHOICES",
        "ClaimPartialApprovalReasonEnum": "claims.serializers.PARTIAL_APPROVAL_CHOICES",
        "ClaimRejectReasonEnum": "claims.serializers.REJECT_CHOICES",
        "ClaimInfoRequestReasonEnum": "claims.serializers.INFO_REQUEST_CHOICES",
        "ClaimDisputeReasonEnum": "claims.serializers.DISPUTE_CHOICES",
        # Fields named "state" / "kind" with different choice sets: one name per choices class.
        "SettlementBatchStateEnum": "settlements.models.BatchState",
        "ProviderCreditClaimStateEnum": "sla.models.CreditClaimState",
        "IssuedDocumentKindEnum": "settlements.models.DocumentKind",
        "ClaimDocumentKindEnum": "claims.models.ClaimDocument.Kind",
        "ClaimEventKindEnum": "claims.models.ClaimEvent.Kind",
        "IncidentUpdateKindEnum": "incidents.models.IncidentUpdate.Kind",
        "AlertSourceKindEnum": "incidents.models.AlertSource.Kind",
        "AlertSourceAuthEnum": "incidents.models.AlertSource.Auth",
        "ReceivedAlertStatusEnum": "incidents.models.ReceivedAlert.Status",
    },
}

# Celery: Redis broker; eager only for the demo (CELERY_TASK_ALWAYS_EAGER=1).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")

# The shared cache (API throttle counters): CACHE_URL, else the Redis of the broker; the demo
# (eager Celery, no Redis needed) keeps it in memory.
CACHE_URL = os.environ.get("CACHE_URL") or ("" if CELERY_TASK_ALWAYS_EAGER else CELERY_BROKER_URL)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "claims"}
        if CACHE_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Crash recovery (README "Background tasks"): a task is acknowledged when it has finished
# (acks_late) and handed back if its worker process dies (reject_on_worker_lost). After a
# whole worker is killed, Redis gives its unacknowledged tasks to another worker once
# TASK_VISIBILITY_TIMEOUT has passed (Redis' default is an hour). Every task must finish
# well inside it, or it would run twice: the hard time limit stops a task before then.
TASK_VISIBILITY_TIMEOUT = int(os.environ.get("TASK_VISIBILITY_TIMEOUT", 120))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TASK_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 5,  # how often a worker looks for tasks of dead workers (s)
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # one task reserved per process: nothing else waits behind a long one
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", TASK_VISIBILITY_TIMEOUT * 9 // 10))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT * 9 // 10
# The worker keeps its database connection between tasks (CONN_MAX_AGE and health checks
# above, applied by config.celery) instead of opening one per task.
CELERY_DB_REUSE_MAX = 1_000_000
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
    "sla.schedule_for_incident": {"queue": "recompute"},
    "incidents.tasks.import_incidents_file": {"queue": "imports"},
    "sla.nightly_evaluate": {"queue": "beat"},
    "claims.tasks.expire_claims": {"queue": "beat"},
    "claims.tasks.send_expiry_reminders": {"queue": "beat"},
    "telemetry.pull_prometheus": {"queue": "beat"},
    "telemetry.pull_prometheus_source": {"queue": "beat"},
    "merchants.create_metric_partitions": {"queue": "beat"},
    "claims.tasks.drop_expired_metrics": {"queue": "beat"},
}
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["sla-nightly-evaluate"] = {  # 02:30 every night, in CELERY_TIMEZONE
    "task": "sla.nightly_evaluate",
    "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(hour=2, minute=30),
}
# Claim workflow: expire unanswered proposals/info requests, and remind 3 days before (claims/tasks.py).
CELERY_BEAT_SCHEDULE["sla-error-budgets"] = {"task": "sla.check_error_budgets", "schedule": 15 * 60}
CELERY_BEAT_SCHEDULE["claims-expire"] = {"task": "claims.tasks.expire_claims", "schedule": 15 * 60}
CELERY_BEAT_SCHEDULE["claims-expiry-reminders"] = {"task": "claims.tasks.send_expiry_reminders", "schedule": 60 * 60}
# Monthly merchant statements of last month (merchant time zone); daily so a missed day catches up,
# idempotent: an existing statement gets no new version (settlements/tasks.py).
CELERY_BEAT_SCHEDULE["finance-monthly-statements"] = {
    "task": "settlements.issue_monthly_statements",
    "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(hour=3, minute=15),
}
# Telemetry from Prometheus: each source's 5-minute windows since its last pull (telemetry/prometheus.py).
CELERY_BEAT_SCHEDULE["telemetry-prometheus-pull"] = {"task": "telemetry.pull_prometheus", "schedule": 60}

# PDF files whose document row never committed (a crash mid-issue) are deleted daily.
CELERY_BEAT_SCHEDULE["finance-sweep-orphan-documents"] = {
    "task": "settlements.sweep_orphan_documents",
    "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(hour=4, minute=0),
}

# Per-minute metrics (docs/SCALING.md "Metric partitions"): day partitions are created this many
# days ahead every 6 hours; a day is dropped once older than the retention and no open claim
# window may still read it (claims.services.drop_expired_metrics), daily at 04:30.
METRICS_PARTITION_DAYS_AHEAD = int(os.environ.get("METRICS_PARTITION_DAYS_AHEAD", 7))
METRICS_RETENTION_DAYS = int(os.environ.get("METRICS_RETENTION_DAYS", 90))
CELERY_BEAT_SCHEDULE["metrics-create-partitions"] = {
    "task": "merchants.create_metric_partitions",
    "schedule": 6 * 60 * 60,
}
CELERY_BEAT_SCHEDULE["metrics-drop-expired-partitions"] = {
    "task": "claims.tasks.drop_expired_metrics",
    "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(hour=4, minute=30),
}

# Claim workflow rules (claims/config.py has the defaults). The demo widens the
# filing window because its incidents have fixed dates in October and November 2026.
if os.environ.get("CLAIMS_FILING_WINDOW_DAYS"):
    CLAIMS_FILING_WINDOW_DAYS = int(os.environ["CLAIMS_FILING_WINDOW_DAYS"])

# Incident changes recompute their SLA contract-months at most once per this many seconds (sla/tasks.py).
SLA_RECOMPUTE_DEBOUNCE_SECONDS = float(os.environ.get("SLA_RECOMPUTE_DEBOUNCE_SECONDS", 2))

# Proposals after a resolved incident are written this many merchants per transaction (claims/recompute.py).
CLAIMS_PROPOSAL_BATCH_SIZE = int(os.environ.get("CLAIMS_PROPOSAL_BATCH_SIZE", 500))

# Incident webhooks: a request whose timestamp is further than this from now is refused.
INCIDENT_WEBHOOK_TOLERANCE_SECONDS = 300
# Incidents opened from telemetry (README "Provider telemetry"): a window is down above the
# threshold with at least the minimum requests; runs of at least min_down_run_minutes open one.
TELEMETRY_DETECTION: dict[str, Any] = {
    "error_rate_threshold_percent": "0.4",
    "min_requests_per_window": 250,
    "min_down_run_minutes": 10,
    "major_outage_percent": "50",  # peak error rate ≥ this: major outage
    "partial_outage_percent": "5",  # ≥ this: partial outage; below: degraded performance
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs a start-up banner at INFO in every process (each manage.py command);
    # its lockout messages come from other loggers and stay.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}

if PRODUCTION:
    # WhiteNoise serves the collected static files in production, right after security.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's check may come over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Error reporting: only when SENTRY_DSN is set (sentry-sdk's Django and Celery integrations).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production" if PRODUCTION else "development"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", 0)),
        send_default_pii=False,
    )
