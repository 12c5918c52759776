"""CloudSite settings, read once from the environment (see docs/design.md §6)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from workers.botoconfig import client_config

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for development).")
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 (DEBUG only)
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # django-ninja's documented setup: /api/v1/docs serves Swagger UI from its own
    # static files, so the docs work offline (no CDN).
    "ninja",
    "jobs",  # the job model every tool shares, and the tool contract
    "cloudsite",  # the site's web side: API, tokens, abuse limits, dashboard
    "workers",  # the queue runtime: consumer, reconciler, their commands
    # The tools: each one app (jobs.tools.ToolConfig).
    "calc",
    "pic",
]

MIDDLEWARE = [
    # First: the load balancer's /healthz (instance IP as Host, plain HTTP) is answered
    # before the host check and the HTTPS redirect (cloudsite/health.py).
    "cloudsite.health.HealthCheckMiddleware",
    # The Content-Security-Policy (CONTENT_SECURITY_POLICY below) on every other answer.
    "cloudsite.headers.ContentSecurityPolicyMiddleware",
    # Cache-Control: private, no-store on every answer that sets none (issue 17).
    "cloudsite.headers.PrivateCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Caps the request body (CLOUDSITE_BODY_LIMITS below) before anything reads it: the
    # CSRF check and sessions come later. After the two above, which never read the body,
    # so that its refusals carry the same security headers as every other answer.
    "cloudsite.bodylimit.BodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cloudsite.urls"
WSGI_APPLICATION = "cloudsite.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the reconciler and the status views write at once:
    # WAL plus IMMEDIATE transactions make them queue instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(os.environ.get("CLOUDSITE_MEDIA_ROOT", BASE_DIR / "media"))

# AWS. Credentials come from boto3's default chain (an instance role on EC2).
AWS_REGION = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
AWS_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL") or None
CLOUDSITE_BUCKET = os.environ.get("CLOUDSITE_BUCKET", "")
CLOUDSITE_QUEUE_PREFIX = os.environ.get("CLOUDSITE_QUEUE_PREFIX", "")
# Seconds a presigned link to a private S3 object stays valid.
CLOUDSITE_URL_EXPIRY = envint("CLOUDSITE_URL_EXPIRY", 600)

# The sweeper (in reconcile_replies): a job never sent is tried again after
# SEND_RETRY seconds; a sent job with no reply for RESEND seconds is sent again,
# up to MAX_SENDS sends in all, then marked failed ("timed out").
CLOUDSITE_SEND_RETRY_SECONDS = envint("CLOUDSITE_SEND_RETRY_SECONDS", 30)
CLOUDSITE_RESEND_SECONDS = envint("CLOUDSITE_RESEND_SECONDS", 900)
CLOUDSITE_MAX_SENDS = envint("CLOUDSITE_MAX_SENDS", 3)

if CLOUDSITE_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": CLOUDSITE_BUCKET,
            "region_name": AWS_REGION,
            # No endpoint_url here: boto3 reads AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_S3
            # when S3 alone should go elsewhere.
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": True,
            "querystring_expire": CLOUDSITE_URL_EXPIRY,
            # Keys derive from job ids, so a redelivered job rewrites its own object.
            "file_overwrite": True,
            # Downloads bigger than this spill from memory to a temporary file.
            "max_memory_size": 8 * 1024 * 1024,
            # The retries, timeouts and pool size of every other AWS call (workers/aws.py).
            "client_config": client_config(),
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "allow_overwrite": True},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Production security: HTTPS behind a load balancer that terminates TLS. Each is an
# env setting, off by default so that `make run` works on plain http://127.0.0.1;
# deploy/bootstrap.sh turns them all on, and `check --deploy` is then silent.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG and envbool("DJANGO_SECURE_COOKIES", False)
SECURE_SSL_REDIRECT = not DEBUG and envbool("DJANGO_SECURE_SSL_REDIRECT", False)
if SECURE_SSL_REDIRECT or SESSION_COOKIE_SECURE:
    # Only the load balancer reaches gunicorn (security groups), so its
    # X-Forwarded-Proto is the truth about the browser's scheme.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is plain HTTP to the instance; it is answered before this
# redirect anyway (cloudsite.health), and stays exempt should the order change.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", False)

# Security (issue 8): the shared cache behind the abuse limits and the dropped-reply
# counters, the limits themselves, the upload cap and the Content-Security-Policy.
# The database cache is shared by every web process; `migrate` creates its table.
CACHES = {
    "default": {
        "BACKEND": os.environ.get("CLOUDSITE_CACHE_BACKEND",
                                  "django.core.cache.backends.db.DatabaseCache"),
        "LOCATION": os.environ.get("CLOUDSITE_CACHE_LOCATION", "cloudsite_cache"),
    }
}
# Jobs one client (IP address) may submit per minute, and jobs one session may have
# queued at once; 0 turns a limit off.
CLOUDSITE_SUBMISSIONS_PER_MINUTE = envint("CLOUDSITE_SUBMISSIONS_PER_MINUTE", 20)
CLOUDSITE_QUEUED_PER_SESSION = envint("CLOUDSITE_QUEUED_PER_SESSION", 10)
# Issue 17: jobs one client address may have queued at once (several people may share
# one address behind NAT), and whether staff are exempt from every limit (off: they are not).
CLOUDSITE_QUEUED_PER_CLIENT = envint("CLOUDSITE_QUEUED_PER_CLIENT", 10)
CLOUDSITE_LIMITS_EXEMPT_STAFF = envbool("CLOUDSITE_LIMITS_EXEMPT_STAFF", False)
# Behind a load balancer the client is the last address it appends to X-Forwarded-For.
CLOUDSITE_TRUST_X_FORWARDED_FOR = envbool("CLOUDSITE_TRUST_X_FORWARDED_FOR", False)
# Bytes a CloudPic upload may have; reading stops there (pic/uploads.py).
CLOUDSITE_MAX_UPLOAD_BYTES = envint("CLOUDSITE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
# Every upload (pages and API) stops being stored at that limit.
FILE_UPLOAD_HANDLERS = ["pic.uploads.LimitedUploadHandler"]
# The whole request body, whatever it holds, is capped per route before anything reads
# it (cloudsite/bodylimit.py; 413 from Content-Length, or while a chunked body streams).
# Small wherever no upload is expected: login, admin and API forms post a few KB.
CLOUDSITE_MAX_BODY_BYTES = envint("CLOUDSITE_MAX_BODY_BYTES", 64 * 1024)
# CloudCal's form takes 420,000 characters (10,000 numbers of up to 40 characters and a
# separator): the biggest valid page post measured 500 KB, the API's JSON 440 KB. This
# holds the whole 420,000 even when every character is percent-encoded (3 bytes).
_CALC_BODY_BYTES = 1280 * 1024
# One photo, plus its form fields and multipart headers (600 bytes measured, with a
# 255-character file name).
_UPLOAD_BODY_BYTES = CLOUDSITE_MAX_UPLOAD_BYTES + 16 * 1024
CLOUDSITE_BODY_LIMITS = {
    "/calc/": _CALC_BODY_BYTES,
    "/api/v1/calc/jobs": _CALC_BODY_BYTES,
    "/pic/": _UPLOAD_BODY_BYTES,
    "/api/v1/pic/jobs": _UPLOAD_BODY_BYTES,
}
# Django's own counts within a body: the forms send one file at most (CloudPic's photo);
# the biggest field count is an admin list page with every row ticked (100 by default)
# or a user with all of the site's permissions (under 50).
DATA_UPLOAD_MAX_NUMBER_FILES = 1
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# No inline script or style anywhere (scripts set styles through CSSOM, which the policy
# allows); images may come from the bucket through presigned URLs.
CLOUDSITE_CSP_IMG_SRC = envlist("CLOUDSITE_CSP_IMG_SRC",
                                "https://*.amazonaws.com" if CLOUDSITE_BUCKET else "")
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    " ".join(["img-src 'self' data:", *CLOUDSITE_CSP_IMG_SRC]),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CLOUDSITE_LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
    },
}
STATICFILES_DIRS = [BASE_DIR / "static"]


# Issue 17: admin login throttling (django-axes). A username and address pair that fails
# AXES_FAILURE_LIMIT times in a row is refused (429, even with the right password) for
# AXES_COOLOFF_TIME; another address, or another username, is not locked by it. A success
# clears the pair's count. The address is the one the abuse limits use (X-Forwarded-For
# behind the load balancer only when trusted).
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes asks
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend",
                           "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = envint("CLOUDSITE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("CLOUDSITE_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "cloudsite.limits.login_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Issue 17: a bad Host header is the client's fault: one WARNING line, no traceback.
LOGGING["filters"] = {"warning_without_traceback": {
    "()": "cloudsite.logfilters.WarningWithoutTraceback"}}
LOGGING["loggers"]["django.security.DisallowedHost"] = {
    "filters": ["warning_without_traceback"]}
