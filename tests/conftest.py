"""Suite-wide fixtures.

The audit table refuses DELETE and TRUNCATE, which is also how Django's test runner empties the
database between transactional tests. Only here, around that flush, are the triggers lifted and put
back; the platform itself has no such path.
"""

import pytest
from django.core.management.commands import flush
from django.db import connections

from audit import triggers

_original_flush_handle = flush.Command.handle


def _flush_with_audit_triggers_lifted(self, **options):
    connection = connections[options.get("database", "default")]
    triggers.remove(connection)
    try:
        return _original_flush_handle(self, **options)
    finally:
        triggers.install(connection)


flush.Command.handle = _flush_with_audit_triggers_lifted


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "bids": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "bids")}},
    }


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in English (a page test, the live server) activates English in its thread; put the
    platform's default back so no later test runs in a language it did not ask for."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def sandbox(settings):
    settings.PLATFORM_SANDBOX = True
    return settings


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing (PBKDF2, hundreds of thousands of rounds) is the platform's job, not the suite's.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_report_header(config):
    """Say which database and channel layer this run uses, so CI output shows both runs."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"platform: database={database['ENGINE'].rsplit('.', 1)[-1]} ({database.get('HOST') or database['NAME']}), channel layer={layer}"
