"""Django settings for Resync.

Everything that differs between machines comes from the environment (or a `.env` file beside
`manage.py`); see `.env.example` for the full list. Sections follow Django's settings reference:
https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from resync_site.csp import SITE_POLICY, bad_frame_ancestors
from resync_site.databases import database_from_url
from resync_site.integration_settings import integration_settings
from resync_site.logging import logging_config
from resync_site.rates import check_rates
from shipments.carriers import catalogue as carrier_catalogue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)  # bench/: /bench/one-row/<pk>/

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for a development default)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "shipments",
    "tracking",
    "connect",
    # Shopper e-mails when a parcel moves (listens to shipments.signals.shipments_changed).
    "notify",
    "hooks",  # signed webhooks to the merchant's own systems (docs/contract.md §8)
    "ninja",  # the merchant API's docs page (/api/v1/docs) with its own static files
    "axes",  # sign-in throttling (see "Sign-in throttling" below)
    # A development and test tool (its command and the `track sandbox` code); no product app
    # imports it.
    "carrier_sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A Content-Security-Policy on every answer (resync_site/csp.py; /track/ writes its own).
    "resync_site.middleware.SiteCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Instead of Django's LocaleMiddleware: /track/ in the shopper's language, the rest English.
    "resync_site.languages.ShopperLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # JSON clients get JSON for Django's own 405s and sign-in redirects (resync_site/middleware.py).
    "resync_site.middleware.JsonErrorsMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into our 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "resync_site.urls"
WSGI_APPLICATION = "resync_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {
    "default": database_from_url(  # resync_site/databases.py
        env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env.int("CONN_MAX_AGE", default=60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Seconds; every Redis call from a request gives up quickly instead of hanging the page.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)

CACHES = {
    "default": {
        # Django's Redis cache, one client per pool (shipments/redis_client.py).
        "BACKEND": "shipments.redis_client.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "resync-cache",
        "OPTIONS": {
            "pool_class": "shipments.redis_client.GuardedConnectionPool",  # the breaker below
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}

# Seconds a rendering of a tracking page is kept in Redis (tracking/page_cache.py; 0: none).
# Keys carry what the page depends on, so a change shows at once: this only bounds memory.
TRACKING_PAGE_CACHE_SECONDS = env.int("TRACKING_PAGE_CACHE_SECONDS", default=300)

# Circuit breaker around every Redis server the app talks to (cooldowns, the cache above, broker
# publishes; shipments/redis_client.py): after REDIS_BREAKER_FAILURES timeouts or slow failed
# connects in a row, calls fail at once (pages render without a countdown, resyncs answer 503)
# for REDIS_BREAKER_OPEN_SECONDS; then one trial call closes it again or opens another period.
REDIS_BREAKER_FAILURES = env.int("REDIS_BREAKER_FAILURES", default=1)
REDIS_BREAKER_OPEN_SECONDS = env.float("REDIS_BREAKER_OPEN_SECONDS", default=5.0)

# https://docs.celeryq.dev/en/stable/userguide/configuration.html (CELERY_ namespace)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # progress lives in database rows, not in a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=100)
CELERY_TASK_DEFAULT_QUEUE = "bulk"
CELERY_TASK_CREATE_MISSING_QUEUES = False
# The longest retry countdown is CARRIER_MAX_RETRY_DELAY; unacked messages come back only after
# this, so a long countdown is never delivered twice.
CARRIER_MAX_RETRY_DELAY = env.int("CARRIER_MAX_RETRY_DELAY", default=900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * 3600,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "socket_keepalive": True,
    "health_check_interval": 25,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Enqueuing from a web request must not hang when Redis is down: one quick retry, then fail.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME",
    default=str(BASE_DIR / "var" / "celerybeat-schedule"),
)

# --- Product rules --------------------------------------------------------------------------------
SHIPMENT_RESYNC_COOLDOWN_SECONDS = env.int("SHIPMENT_RESYNC_COOLDOWN_SECONDS", default=300)
STORE_BULK_RESYNC_COOLDOWN_SECONDS = env.int("STORE_BULK_RESYNC_COOLDOWN_SECONDS", default=3600)
SYNC_RUN_STALL_SECONDS = env.int("SYNC_RUN_STALL_SECONDS", default=300)
# Seconds a bulk run may hold its "in progress" lock before it is considered abandoned.
SYNC_RUN_LOCK_SECONDS = env.int("SYNC_RUN_LOCK_SECONDS", default=4 * 3600)
SCHEDULED_SYNC_INTERVAL_SECONDS = env.int("SCHEDULED_SYNC_INTERVAL_SECONDS", default=300)
RECONCILE_INTERVAL_SECONDS = min(60, env.int("RECONCILE_INTERVAL_SECONDS", default=60))
# CSV import (/app/shipments/import/): rows a file, and bytes a file (refused with 413 above it).
CSV_IMPORT_MAX_ROWS = env.int("CSV_IMPORT_MAX_ROWS", default=10_000)
CSV_IMPORT_MAX_BYTES = env.int("CSV_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
CELERY_BEAT_SCHEDULE = {
    "scheduled-sync": {
        "task": "shipments.tasks.shipments_sync_due",
        "schedule": float(SCHEDULED_SYNC_INTERVAL_SECONDS),
    },
    "reconcile-sync-runs": {
        "task": "shipments.tasks.sync_runs_reconcile",
        "schedule": float(RECONCILE_INTERVAL_SECONDS),
    },
    "reconcile-shopify-webhooks": {
        "task": "connect.tasks.shopify_webhooks_reconcile",
        "schedule": float(RECONCILE_INTERVAL_SECONDS),
    },
    # Carrier pushes still pending a minute after they came are published again (§9).
    "reconcile-carrier-pushes": {
        "task": "connect.tasks.carrier_pushes_reconcile",
        "schedule": float(RECONCILE_INTERVAL_SECONDS),
    },
}
# Refused shopper resyncs are counted in Redis and written as one audit row per shipment,
# client, reason and minute (shipments/services/refusals.py): this writes the minutes that are
# over. Every 30 s, so a row appears at most about a minute and a half after its minute began.
RESYNC_REFUSALS_FLUSH_SECONDS = env.float("RESYNC_REFUSALS_FLUSH_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["flush-resync-refusals"] = {
    "task": "shipments.tasks.resync_refusals_flush",
    "schedule": RESYNC_REFUSALS_FLUSH_SECONDS,
}

# --- The ways in and out: Shopify, shopper e-mails, webhooks, carrier push (their own module) ---
vars().update(
    integration_settings(
        env,
        beat=CELERY_BEAT_SCHEDULE,
        carrier_max_retry_delay=float(CARRIER_MAX_RETRY_DELAY),
        reconcile_interval=float(RECONCILE_INTERVAL_SECONDS),
    )
)

# --- Carriers ------------------------------------------------------------------------------------
CARRIER_SANDBOX_URL = env.str("CARRIER_SANDBOX_URL", default="")
CARRIER_SANDBOX_PUSH_URL = env.str("CARRIER_SANDBOX_PUSH_URL", default="")
CARRIER_CONNECT_TIMEOUT = env.float("CARRIER_CONNECT_TIMEOUT", default=3.05)
CARRIER_READ_TIMEOUT = env.float("CARRIER_READ_TIMEOUT", default=10.0)
CARRIER_MAX_RETRIES = env.int("CARRIER_MAX_RETRIES", default=5)
# Requests in flight at once per track() call, for carriers that take one number per request.
CARRIER_MAX_CONCURRENCY = env.int("CARRIER_MAX_CONCURRENCY", default=64)
CARRIER_RETRY_BASE_DELAY = env.float("CARRIER_RETRY_BASE_DELAY", default=2.0)
# Base URL override per carrier: "" means the carrier's real API (or the sandbox, when
# CARRIER_SANDBOX_URL is set). Rate limits are requests per second across all processes.
# Names and defaults come from the carrier catalogue.
CARRIER_API_BASE_URLS = {
    c.code: env.str(f"{c.env_prefix}_API_BASE_URL", default="") for c in carrier_catalogue.CARRIERS
}
CARRIER_RATE_LIMITS = {
    c.code: env.float(f"{c.env_prefix}_RATE_LIMIT", default=c.rate_limit)
    for c in carrier_catalogue.CARRIERS
}
CARRIER_CREDENTIALS = {
    c.code: {name: env.str(var, default="") for name, var in c.credential_env.items()}
    for c in carrier_catalogue.CARRIERS
}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "shipments:list"  # users without a store go elsewhere: resync_site/sign_in.py
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in throttling (django-axes, https://django-axes.readthedocs.io/) -----------------------
# SPEC §10; how and why: resync_site/throttle.py. The throttle backend comes first and refuses a
# locked-out attempt before any password is hashed; counters live in Redis (no database writes).
SIGN_IN_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=10)
SIGN_IN_LOCKOUT_MINUTES = env.int("SIGN_IN_LOCKOUT_MINUTES", default=15)
if SIGN_IN_FAILURE_LIMIT < 1 or SIGN_IN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured(
        "SIGN_IN_FAILURE_LIMIT and SIGN_IN_LOCKOUT_MINUTES must be 1 or more."
    )
AUTHENTICATION_BACKENDS = [
    "resync_site.throttle.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("SIGN_IN_THROTTLE_ENABLED", default=True)
# axes' cache handler (resync_site/throttle.py: Redis down means no throttle, never a 500).
AXES_HANDLER = "resync_site.throttle.SignInCounters"
AXES_CACHE = "default"
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks: not the pair
# Attempts refused during a lockout neither count nor extend it: the window ends on time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Signing in to an account of one's own must not wipe the failures counted for that client.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "resync_site.client_ip.client_ip"  # honours TRUSTED_PROXY_COUNT
AXES_USERNAME_CALLABLE = "resync_site.throttle.username_bucket"
AXES_LOCKOUT_CALLABLE = "resync_site.throttle.locked_out"
AXES_ENABLE_ADMIN = False  # its admin pages list database rows; the cache handler writes none

# --- Abuse limits on public endpoints (django-ratelimit) ------------------------------------------
RATELIMIT_USE_CACHE = "default"
# The client behind N proxies that append to X-Forwarded-For (resync_site/client_ip.py); 0: none.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
RATELIMIT_IP_META_KEY = "resync_site.client_ip.ratelimit_ip"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
TRACK_LOOKUP_RATE_PER_IP = env.str("TRACK_LOOKUP_RATE_PER_IP", default="20/m")
TRACK_LOOKUP_RATE_PER_ORDER = env.str("TRACK_LOOKUP_RATE_PER_ORDER", default="10/m")
TRACK_RESYNC_RATE_PER_IP = env.str("TRACK_RESYNC_RATE_PER_IP", default="30/h")
check_rates(
    TRACK_LOOKUP_RATE_PER_IP=TRACK_LOOKUP_RATE_PER_IP,
    TRACK_LOOKUP_RATE_PER_ORDER=TRACK_LOOKUP_RATE_PER_ORDER,
    TRACK_RESYNC_RATE_PER_IP=TRACK_RESYNC_RATE_PER_IP,
)
TRACK_FRAME_ANCESTORS = env.list("TRACK_FRAME_ANCESTORS", default=[])
if bad_frame_ancestors(TRACK_FRAME_ANCESTORS):
    raise ImproperlyConfigured(
        "TRACK_FRAME_ANCESTORS takes 'self' or origins such as https://shop.example.com "
        f"(not {', '.join(bad_frame_ancestors(TRACK_FRAME_ANCESTORS))})."
    )

# --- Merchant API (/api/v1/, docs/api.md) -------------------------------------------------------
# Requests per second per API key (a sliding one-second window in Redis); 0 turns it off.
API_RATE_LIMIT_PER_SECOND = env.int("API_RATE_LIMIT_PER_SECOND", default=10)

# --- Internationalisation -------------------------------------------------------------------------
# The shopper's pages (/track/) speak these; the merchant app and the admin stay in English
# (resync_site/languages.py, docs/contract.md §10). Adding one: README "Languages".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["resync_site.formats"]  # our DATETIME_FORMAT: "20 Nov 2026, 14:30"
DATETIME_FORMAT = "j M Y, H:i"  # the same where no language is active (workers)

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default=(
                "django.contrib.staticfiles.storage.StaticFilesStorage"
                if DEBUG
                else "whitenoise.storage.CompressedManifestStaticFilesStorage"
            ),
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

# --- Security (`manage.py check --deploy` is clean with DEBUG off) --------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = SITE_POLICY  # resync_site/csp.py
CSRF_FAILURE_VIEW = "shipments.error_views.csrf_failure"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging: one format for web and workers, to stderr, with store/shipment/run ids ---
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(LOG_LEVEL)  # resync_site/logging.py
