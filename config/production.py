"""Production settings: everything from the environment, secure defaults, never sandbox.

`DJANGO_SECRET_KEY=... DJANGO_ALLOWED_HOSTS=... manage.py check --deploy --settings=config.production
--fail-level WARNING` passes with no warnings (tests/test_deploy.py proves it). The platform runs
behind a reverse proxy that terminates TLS, serves STATIC_ROOT and sets X-Forwarded-Proto.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F401,F403
from config.settings import REST_FRAMEWORK, STORAGES
from config.env import env_bool, env_list, env_str


def _strong_secret_key(value: str) -> str:
    """The same bar Django's deploy check sets (security.W009), enforced at start-up instead of
    reported afterwards: a platform that signs sessions with a weak key must not start."""
    if len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))')"
        )
    return value


DEBUG = False
SECRET_KEY = _strong_secret_key(env_str("DJANGO_SECRET_KEY"))
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the hosts this platform answers on")

# The accelerator only exists for demos and tests; production never runs statutory periods faster.
if env_bool("PLATFORM_SANDBOX", False):
    raise ImproperlyConfigured("PLATFORM_SANDBOX cannot be enabled in production settings")
PLATFORM_SANDBOX = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# New dicts rather than edits of the imported ones: config.settings must stay as it was for any
# code that imports it in the same process.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
# The browsable API is a development aid; production answers JSON only.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
