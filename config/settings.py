"""Settings for every environment, driven by environment variables.

The embedded default (no variables set) is SQLite in the data folder and an in-memory channel
layer; `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis. `config.production` tightens
this for deployment.
"""

import ipaddress
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_list, env_str, secret_from_data_dir

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("PLATFORM_DATA_DIR", str(BASE_DIR / "var" / "data"))).resolve()

SECRET_KEY = env_str("DJANGO_SECRET_KEY") or secret_from_data_dir(DATA_DIR)
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# The reverse proxies in front of daphne (addresses or networks, comma-separated). Only a request
# arriving from one of them has its client address taken from X-Forwarded-For (audit.actor.client_ip);
# empty means daphne faces the clients itself. See docs/operations.md.
PLATFORM_TRUSTED_PROXIES = env_list("PLATFORM_TRUSTED_PROXIES")
for _proxy in PLATFORM_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"PLATFORM_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network") from _exc

# The platform's own identity and mode.
PLATFORM_REGION_CODE = env_str("PLATFORM_REGION_CODE", "441900")
PLATFORM_REGION_NAME = env_str("PLATFORM_REGION_NAME", "东莞")
# Where partners reach this platform (its well-known metadata names it; docs/cross-region.md).
PLATFORM_BASE_URL = env_str("PLATFORM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Sandbox mode lets a tender carry an accelerator for its statutory periods (demo and tests only).
PLATFORM_SANDBOX = env_bool("PLATFORM_SANDBOX", False)
# Browsers keep cookies per host, not per port: two platforms on one host (the two-city demo,
# 127.0.0.1:8000 and :8001) would overwrite each other's session cookie. Each instance names its own
# (scripts/run-cities gives Zhongshan "sessionid-442000"); Dongguan keeps Django's default.
SESSION_COOKIE_NAME = env_str("PLATFORM_SESSION_COOKIE_NAME", "sessionid")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "audit",
    "accounts",
    "tendering",
    "bidding",
    "opening",
    "evaluation",
    "crossregion",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.PlatformLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crossregion.confinement.FederatedConfinementMiddleware",  # away experts: their evaluation room only
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "config.context_processors.platform",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction begins, so two writers never
                # deadlock upgrading read locks (the audit chain reads its head, then appends).
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Sealed bids and the chunks of uploads in progress; never served over HTTP.
    "bids": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(DATA_DIR / "bids")}},
}
# Uploads above this size are refused (tender documents; bids have their own chunked path).
PLATFORM_MAX_DOCUMENT_BYTES = int(env_str("PLATFORM_MAX_DOCUMENT_BYTES", str(200 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Sealed bids: the largest file a bidder may upload (refused while streaming, not after), and the
# largest chunk of one request of the resumable upload.
PLATFORM_MAX_BID_BYTES = int(env_str("PLATFORM_MAX_BID_BYTES", str(1024 * 1024 * 1024)))
PLATFORM_BID_CHUNK_BYTES = int(env_str("PLATFORM_BID_CHUNK_BYTES", str(8 * 1024 * 1024)))
# Versions a bidder may submit per lot (each stays on record), and the free space the bids storage
# must keep beyond an upload's size before the upload may start.
PLATFORM_MAX_BID_VERSIONS = int(env_str("PLATFORM_MAX_BID_VERSIONS", "20"))
PLATFORM_MIN_FREE_BYTES = int(env_str("PLATFORM_MIN_FREE_BYTES", str(1024 * 1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "E-tendering platform API",
    "DESCRIPTION": "Public-resource e-tendering and remote bid evaluation, API v1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
