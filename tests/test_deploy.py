"""Production settings: the deploy check passes with no warnings, and unsafe configurations refuse
to start at all."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _manage(tmp_path, *args, **env_overrides):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PLATFORM_"))}
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "example.gov.cn",
            "PLATFORM_DATA_DIR": str(tmp_path / "data"),
        }
    )
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--settings=config.production"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_no_warnings(tmp_path):
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output and "?: (" not in output


def test_production_refuses_sandbox_mode(tmp_path):
    result = _manage(tmp_path, "check", PLATFORM_SANDBOX="1")
    assert result.returncode != 0
    assert "PLATFORM_SANDBOX cannot be enabled in production" in result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "too-short-" * 3, "a" * 64, "django-insecure-" + secrets.token_urlsafe(48)],
    ids=["missing", "empty", "short", "one-character", "django-insecure"],
)
def test_production_refuses_a_missing_or_weak_secret_key(tmp_path, secret_key):
    result = _manage(tmp_path, "check", DJANGO_SECRET_KEY=secret_key)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set to a random value" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    result = _manage(tmp_path, "check", DJANGO_ALLOWED_HOSTS=None)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must name the hosts" in result.stderr


def test_production_never_uses_the_settings_defaults_it_tightens(tmp_path):
    script = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.PLATFORM_SANDBOX, s.SESSION_COOKIE_SECURE, s.STORAGES['staticfiles']['BACKEND'],"
        " s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'])"
    )
    result = _manage(tmp_path, "shell", "--no-imports", "-c", script)
    assert result.returncode == 0, result.stderr
    values = result.stdout.strip().splitlines()[-1]
    assert values.split()[:3] == ["False", "False", "True"]
    assert "ManifestStaticFilesStorage" in values
    assert "BrowsableAPIRenderer" not in values
