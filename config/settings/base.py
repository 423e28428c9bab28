"""Textback settings: one file, every value from the environment.

Production is the default (DEBUG off). A value that does not parse stops start-up with a message that names
the variable (see ``config.env``). ``config.settings.test`` overrides only what a test run needs.
"""

from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab

from .env import env, env_choice, env_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me-0123456789abcdef")
else:
    # No default: a production server must never start with a key from the source tree.
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for development).")

# --- Hosts --------------------------------------------------------------------------------------------
# The platform host serves the public URLconf (webhooks, agency dashboard, operator admin); every client
# lives at <slug>.<BASE_DOMAIN>. Agencies' own domains are matched by TextbackTenantMiddleware against
# the database, which is why ALLOWED_HOSTS has to let them through; an unknown host still answers 404 there.
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost").strip().lower()
if not BASE_DOMAIN or "/" in BASE_DOMAIN or ":" in BASE_DOMAIN:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"BASE_DOMAIN must be a bare host name such as example.com, not {BASE_DOMAIN!r}."
    )
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", default="http://localhost:8000")
PLATFORM_HOSTS = sorted({BASE_DOMAIN, urlsplit(PUBLIC_BASE_URL).hostname or BASE_DOMAIN})
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

# --- Apps ---------------------------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "accounts",
    "config.apps.OperatorAdminConfig",  # django.contrib.admin, with the operator's site (config/operator_admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "phonenumber_field",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes for agency admins
    "billing",
    "deliverability",
    # Split apps (below): tables in both schemas, each model in its own.
    "telephony",
    "messaging",
    "reports",
    "api",
    # The pages of the edge, no models of their own: an agency's (dashboard, wizard, brand, team), a client's settings.
    "agency",
    "client_settings",
    # Last: its start-up loads the subscriber table (EVENT_SUBSCRIBERS), which imports the apps above.
    "events",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "telephony",
    "messaging",
    "crm",
    "inbox",
    "reports",
    "api",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

# Apps whose tables are split between the schemas, model by model (config/routers.py): a model named in
# SPLIT_APPS_PUBLIC_MODELS ("app_label.modelname") lives in public only, every other one in each client.
SPLIT_APPS = {"telephony", "messaging", "reports", "api"}
SPLIT_APPS_PUBLIC_MODELS = {
    "messaging.outboundsend",
    "messaging.trackedlink",
    "messaging.intakelink",
    "messaging.twilioaccount",
    "telephony.numberholder",
    # reports
    "reports.dailyrollup",
    "reports.monthlyrollup",
    "reports.reportemailpreference",
    "reports.monthlyreportsent",
    "reports.briefingpreference",
    "reports.firststaffreply",
    # api
    "api.apikey",
    "api.idempotencyrecord",
    "api.webhookendpoint",
    "api.webhookdelivery",
}

# The one table of who hears which domain event (events.bus).
EVENT_SUBSCRIBERS = "config.subscribers"

TENANT_MODEL = "accounts.Client"
TENANT_DOMAIN_MODEL = "accounts.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenants"
# New clients are cloned from this migrated, empty schema instead of running every migration
# (accounts.provisioning keeps it up to date).
TENANT_BASE_SCHEMA = "client_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Issue SET search_path only when the schema changes, not before every query (django-tenants still resets it
# after a rollback).
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["config.routers.SplitAppsRouter", "django_tenants.routers.TenantSyncRouter"]

# The largest request body anyone may send (413 above it, unread): the reverse proxy's limit too (Caddyfile).
REQUEST_BODY_MAX_BYTES = 80 * 1024 * 1024

MIDDLEWARE = [
    "config.middleware.TrustedProxyMiddleware",
    "config.middleware.RejectNulInQueryMiddleware",
    "config.middleware.RequestBodyLimitMiddleware",
    "accounts.middleware.TextbackTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.HostMembershipMiddleware",
    "accounts.readonly.ReadOnlyMembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
                "accounts.context_processors.brand",
                "config.navigation.navigation",
                "deliverability.context_processors.registration",
                "billing.context_processors.payment",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Data stores --------------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres:///textback")}
# django-tenants' backend, with a health check that costs no round trip (config/db_backend/base.py).
DATABASES["default"]["ENGINE"] = "config.db_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The server notices a client host that vanished (a crashed machine sends no FIN) within about 30 s instead of
# the kernel's two hours, and so lets go of its locks: a dead sender's fence (messaging.services) with them.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "options", "-c tcp_keepalives_idle=15 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
)
# Django's own connection pool (psycopg_pool), per process, for many threads over few connections: gunicorn's
# gthread workers, the sender. Off by default (each process keeps one connection per thread). django-tenants sets
# the search_path again on every connection taken from the pool, and the sender's fence (a session advisory lock)
# is let go before a connection goes back: tests/integration/test_pooling.py runs the stack through it. NOT
# PgBouncer's transaction mode, which would hand one client's search_path to another's transaction (README).
DB_POOL_SIZE = env.int("DB_POOL_SIZE", default=0)
if DB_POOL_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DB_POOL_SIZE}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", default="redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))
CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key carries the schema it was written in, so one client never reads another's entry.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "KEY_PREFIX": "textback",
    },
    # The same Redis, for the few entries that are the platform's and read from every schema alike.
    "platform": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "textback-platform",
    },
}

# --- Auth ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.HostMembershipBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Where a client's people land after logging in on its host (accounts names no edge app's URL itself).
CLIENT_HOME_URL = "inbox:list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The Django admin lists TOTP devices and recovery codes: never show their secrets, even to operators.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Internationalisation -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"

# --- Static files -------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files callers send us and voicemails (telephony.voicemail): served only through views that check who asks,
# never as static files. Filesystem by default (MEDIA_ROOT); with MEDIA_S3_BUCKET, any S3-compatible store
# (AWS, MinIO, R2, Spaces: MEDIA_S3_ENDPOINT_URL) through django-storages, private objects, credentials from
# boto3's usual places (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the machine's role).
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
_MEDIA_STORAGE: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if MEDIA_S3_BUCKET:
    _MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MEDIA_S3_REGION", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,  # never a public URL: the views stream what they checked
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": _MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email --------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"Textback <no-reply@{BASE_DOMAIN}>")

# --- Language model (suggested replies) ---------------------------------------------------------------
# Any OpenAI-compatible chat API, hosted or self-hosted (messaging.llm). Off when LLM_BASE_URL is unset: the rules
# (messaging.intents, inbox.suggestions) still draft every suggestion. The operator sets it, so a private address
# (a model served on the same network) is allowed; the request still goes through config.outbound.
LLM_BASE_URL = env_url("LLM_BASE_URL", default="").rstrip("/")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_MODEL = env.str("LLM_MODEL", default="")
# A suggestion is asked for while a person waits: past this, the rules' draft is shown instead.
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=8.0)
if LLM_BASE_URL and not LLM_MODEL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LLM_MODEL must name the model when LLM_BASE_URL is set.")

# --- Telephony ----------------------------------------------------------------------------------------
# The carrier of every agency whose Carrier (Agency → Carrier, in the admin) is empty: the console (development) or
# Twilio. Telnyx is only ever chosen per agency, so that an agency set to Twilio always has Twilio's account,
# subaccounts and credentials to use; naming it here is refused with where to choose it instead.
if env.str("TELEPHONY_PROVIDER", default="").strip().lower() == "telnyx":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "TELEPHONY_PROVIDER must be one of console, twilio: Telnyx is chosen per agency (admin: Agency → Carrier)."
    )
TELEPHONY_PROVIDER = env_choice("TELEPHONY_PROVIDER", choices=("console", "twilio"), default="console")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
# Webhooks are refused unless signed with this token; development gets a fixed one so that
# `manage.py simulate_call` works without a Twilio account.
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="dev-auth-token" if DEBUG else "")
# Unset means the real Twilio; when set, every Twilio REST request goes to this origin, path unchanged.
TWILIO_API_BASE_URL = env_url("TWILIO_API_BASE_URL", default="") or None
# Telnyx, the second carrier, chosen per agency (accounts.Agency.carrier): the account's webhook public key
# (base64 Ed25519, Mission Control → Keys & Credentials; webhooks are refused without it), its API key, and where
# its API is (tests point it at tests/telnyx_fake).
TELNYX_PUBLIC_KEY = env.str("TELNYX_PUBLIC_KEY", default="")
TELNYX_API_KEY = env.str("TELNYX_API_KEY", default="")
TELNYX_API_BASE_URL = env_url("TELNYX_API_BASE_URL", default="") or "https://api.telnyx.com"
TELNYX_MESSAGING_PROFILE_ID = env.str("TELNYX_MESSAGING_PROFILE_ID", default="")
# The TeXML application numbers are pointed at (its voice URL is /hooks/telnyx/voice/incoming/).
TELNYX_TEXML_APP_ID = env.str("TELNYX_TEXML_APP_ID", default="")
TELNYX_TIMEOUT_SECONDS = env.float("TELNYX_TIMEOUT_SECONDS", default=10.0)
# How long to wait for Twilio's answer; a send that times out is reconciled before it is retried.
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# A send still "sending" after this long lost its worker and is reconciled by the sweep (must exceed the timeout).
# Not a guess at "dead" any more: a live attempt holds its send's fence (messaging.services.FENCE_BASE), so this
# only says how soon a dead one's send is looked at again.
SENDING_STALE_SECONDS = env.float(
    "SENDING_STALE_SECONDS", default=max(TWILIO_TIMEOUT_SECONDS, TELNYX_TIMEOUT_SECONDS) + 5
)
# Each agency's numbers in a Twilio subaccount of its own, made through the API with its first number (messaging.
# twilio_accounts). Off: new agencies share the platform's account, as before (README: "Twilio accounts").
TWILIO_SUBACCOUNTS = env.bool("TWILIO_SUBACCOUNTS", default=False)
# Fernet keys (config.crypto) that encrypt agencies' Twilio auth tokens at rest, newest first: the first
# encrypts, every one decrypts, so a new key is put in front and the old one removed after `manage.py
# credentials_rotate`. Development derives one from SECRET_KEY; production must set it before any agency gets an
# account of its own (the first encryption fails loudly otherwise).
CREDENTIALS_KEYS = env.list("CREDENTIALS_KEYS", default=[])
if DEBUG and not CREDENTIALS_KEYS:
    import base64
    import hashlib

    CREDENTIALS_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"credentials:{SECRET_KEY}".encode()).digest()).decode()
    ]
if TELEPHONY_PROVIDER == "twilio" and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "TELEPHONY_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to be set."
    )

# --- Celery -------------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves the message to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
# Sends spend their time waiting for Twilio (100-300 ms a request, seconds when it is slow), so they have a queue
# and a worker of their own: the sender, a pool of threads (`celery worker -Q sends --pool threads`), keeps many
# requests in flight per process, so Twilio's latency costs wall time rather than worker slots, and no export
# or sweep on the other worker ever delays a text-back (issue 17; bench/textback_latency.py). Thread pools do
# not enforce Celery's time limits: the Twilio client's own timeout (TWILIO_TIMEOUT_SECONDS) bounds a send.
SENDS_QUEUE = "sends"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "messaging.tasks.deliver_send": {"queue": SENDS_QUEUE},
    "messaging.tasks.line_type_check": {"queue": SENDS_QUEUE},
}
# Riding through a broker that restarts or goes away (issue 15; tests/integration/test_faults.py):
# kombu's Redis transport with its crash on reconnecting fixed (see config/broker.py).
CELERY_BROKER_TRANSPORT = "config.broker:Transport"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Retry for ever: a worker that gives up after Celery's default 100 attempts is a worker someone must restart.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message held unacknowledged by a worker that vanished is redelivered after this; the ledger sweep
    # re-dispatches its send long before (DISPATCH_STALE_AFTER), and the task is idempotent.
    "visibility_timeout": 300,
    # A half-open socket (a restarted host, a dropped NAT entry) is found within seconds, not at the next
    # TCP timeout; a read blocks at most 1 s (BRPOP's own timeout), so 5 s only ends dead reads.
    "socket_timeout": 5,
    "socket_connect_timeout": 1,
    "socket_keepalive": True,
    "health_check_interval": 10,
    "retry_on_timeout": True,
}
# Let a send in flight finish when the broker connection drops, rather than killing it halfway (its message is
# redelivered, and the task finds the send done); Celery 6 changes the default, so it is said here.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Beat writes a heartbeat at each tick (config/celery_app.py), as the worker does from its event loop.
CELERY_BEAT_SCHEDULER = "config.celery_app:BeatScheduler"
HEARTBEAT_SECONDS = env.float("HEARTBEAT_SECONDS", default=10.0)
# Each worker probes itself every HEARTBEAT_SECONDS through its own queue (Celery's worker-direct queue): a probe
# not taken off the broker within this long, while the worker had room, is a consumer that stalled after a
# reconnect; the worker reconnects, then exits to be restarted if that did not help (config/liveness.py).
CELERY_WORKER_DIRECT = True
WORKER_STALL_SECONDS = env.float("WORKER_STALL_SECONDS", default=30.0)
# /healthz and the operators' banner on the agency dashboard call sends late past this (config/health.py).
SEND_LATE_SECONDS = env.float("SEND_LATE_SECONDS", default=60.0)
# Fail fast when the broker is down (a webhook is waiting); the ledger sweep sends what could not be queued.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# Keep a worker's database connection across tasks (Celery's Django fixup otherwise closes it after every task,
# whatever CONN_MAX_AGE says), and let tenant-schemas-celery cache the schema → client lookup it does before
# each task. Together about a third more text-backs per second on 2 cores (bench/textback_latency.py).
# A kept connection that PostgreSQL hung up on is dropped before the next task (config/celery_app.py).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_TENANT_CACHE_SECONDS = 60
# Webhooks find their client in Redis for as long, unless a client row changed since (accounts.client_cache);
# 0 reads PostgreSQL every time.
CLIENT_CACHE_SECONDS = env.int("CLIENT_CACHE_SECONDS", default=60)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The ledger, not the broker, is the source of truth: this finds sends the broker lost (see messaging.services).
CELERY_BEAT_SCHEDULE = {
    "sweep-due-sends": {
        "task": "messaging.tasks.sweep_due_sends",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=10.0),
    },
    # Outbox rows whose drain task the broker lost, and subscribers due again after a failure (events.outbox).
    "drain-outbox": {
        "task": "events.tasks.outbox_drain",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=10.0),
    },
    # Outbound webhook retries, and deliveries the broker lost (api.services.webhook_sweep_due).
    "sweep-webhook-deliveries": {
        "task": "api.tasks.sweep_webhook_deliveries",
        "schedule": env.float("WEBHOOK_SWEEP_INTERVAL_SECONDS", default=30.0),
    },
    # Voicemails and callers' photos whose copy the broker lost or the carrier delayed: tried once more.
    "copies-sweep": {"task": "telephony.tasks.copies_sweep", "schedule": crontab(minute=25)},
    # Close last month's statements once it has ended in every agency's time zone (idempotent; see billing).
    "billing-close-last-month": {"task": "billing.tasks.statements_close_last_month", "schedule": 6 * 3600.0},
    # Usage warnings whose task never reached the broker.
    "billing-pending-warnings": {"task": "billing.tasks.usage_warnings_send_pending", "schedule": 300.0},
    # Roll-ups rebuilt from every client's tables after midnight in the Americas, before anyone opens a dashboard.
    "reports-rebuild-rollups": {
        "task": "reports.tasks.rebuild_rollups",
        "schedule": crontab(hour=9, minute=15),
    },
    # The 1st of the month: last month is over in every time zone we serve by 14:00 UTC.
    "reports-monthly-emails": {
        "task": "reports.tasks.send_monthly_reports",
        "schedule": crontab(day_of_month=1, hour=14, minute=0),
    },
    # Briefing emails go out from 07:00 on each client's clock; hourly, and idempotent per person and period, so
    # an hour beat missed is caught up within the morning (reports.briefings.SEND_HOURS).
    "reports-briefings": {"task": "reports.tasks.send_briefings", "schedule": crontab(minute=5)},
    # Agencies' own domains wait for their DNS TXT record (accounts.domains); the brand page also checks at once.
    "accounts-verify-domains": {
        "task": "accounts.tasks.verify_pending_domains",
        "schedule": env.float("DOMAIN_CHECK_INTERVAL_SECONDS", default=600.0),
    },
    # Finished exports older than REPORT_EXPORT_RETENTION_DAYS lose their file; hourly keeps that close to N days.
    "reports-expire-exports": {"task": "reports.tasks.expire_exports", "schedule": crontab(minute=40)},
    # Clients whose 7-day texting rates got worse: their agency is emailed (and they are paused, if it chose so).
    # A2P 10DLC registrations in review: the brand's and the campaign's status, and the next step (deliverability).
    "deliverability-registrations": {
        "task": "deliverability.tasks.registrations_check",
        "schedule": crontab(minute="*/10"),
    },
    "deliverability-check": {
        "task": "deliverability.tasks.deliverability_check",
        "schedule": crontab(minute="*/15"),
    },
}
# Which DNS resolvers check agencies' domain TXT records (accounts.domains), as address or address:port; empty: the
# machine's own (/etc/resolv.conf). Tests point it at their fake DNS server.
DOMAIN_DNS_SERVERS = env.list("DOMAIN_DNS_SERVERS", default=[])
# Big exports are files kept in the client's schema for their download link; after this many days they go.
REPORT_EXPORT_RETENTION_DAYS = env.int("REPORT_EXPORT_RETENTION_DAYS", default=7)
if REPORT_EXPORT_RETENTION_DAYS < 1:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("REPORT_EXPORT_RETENTION_DAYS must be a whole number of days, at least 1.")

# Stripe collects the platform's monthly statements from agencies; billing works the same without it.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
# Stripe Connect (billing.connect): an agency connects its own Stripe account and its clients' statements become
# invoices on it. Off unless the platform's Connect client id (ca_…) is set; it needs the secret key above, and the
# signing secret of the platform's Connect webhook endpoint (/hooks/stripe/). The two bases are Stripe's unless
# tests (or a proxy) say otherwise.
STRIPE_CONNECT_CLIENT_ID = env.str("STRIPE_CONNECT_CLIENT_ID", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env_url("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_CONNECT_BASE = env_url("STRIPE_CONNECT_BASE", default="https://connect.stripe.com")
if STRIPE_CONNECT_CLIENT_ID and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "STRIPE_CONNECT_CLIENT_ID needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (see README, Stripe Connect)."
    )

# How long after proving the password (logging in, or typing it again) a session may connect a Stripe account
# (accounts.reauth); older sessions are asked for the password first.
REAUTH_SECONDS = env.int("REAUTH_SECONDS", default=15 * 60)

# --- Security -----------------------------------------------------------------------------------------
# Secure by default; DEBUG (local development over plain http) turns the https-only parts off.
# The reverse proxy (or load balancer) in front of gunicorn: the addresses, or networks, it connects from.
# X-Forwarded-For (the client's address: login throttling, audit log) and X-Forwarded-Proto (https) are believed
# only on requests from these (config.middleware.TrustedProxyMiddleware); from anyone else they are dropped.
# gunicorn reads the same variable for its --forwarded-allow-ips, so one setting serves both. "*" trusts every
# sender: only where nothing but the proxy can reach the app. Empty (the default): no proxy, nothing believed.
TRUSTED_PROXIES = env.list("FORWARDED_ALLOW_IPS", default=[])
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Twilio webhooks are exempt from CSRF by their views and proven by their signature instead.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Content Security Policy (django-csp): our own scripts and styles only.
# Forms may also lead to the clients' hosts: "Open" on the agency dashboard and the client switcher POST to their
# own host, which answers with a redirect to <client>.<BASE_DOMAIN> (a one-time handoff), and browsers hold a
# form's redirects to form-action too. Every such host is ours; nothing an agency controls is added here.
_public_url = urlsplit(PUBLIC_BASE_URL)
_client_port = f":{_public_url.port}" if _public_url.port else ""
CLIENT_HOSTS_SOURCE = f"{_public_url.scheme}://*.{BASE_DOMAIN}{_client_port}"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", CLIENT_HOSTS_SOURCE],
    }
}
if STRIPE_CONNECT_CLIENT_ID:
    # "Connect with Stripe" POSTs to us and is redirected to Stripe's authorize page (billing.connect_views).
    _stripe_connect = urlsplit(STRIPE_CONNECT_BASE)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_stripe_connect.scheme}://{_stripe_connect.netloc}"
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The REST API (api/): requests per key (n/second|minute|hour|day), and whether webhooks may be delivered to
# private and loopback addresses (always allowed when DEBUG is on; never turn this on in production: SSRF).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/minute")
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
# Web push to staff phones and browsers (inbox.push): the VAPID key pair's private half (`manage.py webpush_keys`
# makes one), base64url; empty turns push off and the inbox offers only email and texts. The subject is the contact
# push services may write to about our traffic. A subscription's endpoint must be https on one of the browsers'
# push services (a suffix match), so a browser cannot make us post anywhere else; tests and development allow
# their local fake (http, private addresses) with WEB_PUSH_ALLOW_PRIVATE_ADDRESSES.
WEB_PUSH_VAPID_PRIVATE_KEY = env.str("WEB_PUSH_VAPID_PRIVATE_KEY", default="")
WEB_PUSH_SUBJECT = env.str("WEB_PUSH_SUBJECT", default=f"mailto:no-reply@{BASE_DOMAIN}")
WEB_PUSH_SERVICE_HOSTS = env.list(
    "WEB_PUSH_SERVICE_HOSTS",
    default=[
        "fcm.googleapis.com",  # Chrome, Edge on Android, Samsung Internet
        "push.services.mozilla.com",  # Firefox
        "push.apple.com",  # Safari (web.push.apple.com), installed apps on iOS 16.4+
        "notify.windows.com",  # Edge on Windows
    ],
)
WEB_PUSH_ALLOW_PRIVATE_ADDRESSES = env.bool("WEB_PUSH_ALLOW_PRIVATE_ADDRESSES", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_tokens": {"()": "config.redact.RedactTokensFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # twilio logs every request with its headers at INFO: ~3 ms of worker CPU per text (bench/textback_latency.py).
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "twilio.http_client": {"level": "WARNING"},
        # Django's own handlers print request paths unfiltered: everything goes through ours instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
