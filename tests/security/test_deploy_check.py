"""Django's own deployment checklist, run as production runs: DEBUG off, a real secret key, our hosts. A warning
here is a setting an attacker can use (cookies over http, no HSTS, a guessable key)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_manage_py_check_deploy_is_clean_with_production_settings():
    # Production's environment, not the test run's (which carries development switches of its own).
    env = {
        **{
            name: os.environ[name]
            for name in ("PATH", "HOME", "DATABASE_URL", "REDIS_URL")
            if name in os.environ
        },
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "0",
        "SECRET_KEY": "x7Rk2vQp9LmN4sTw8YhB3cFg6JdZ1aEu5oIq0WnXyPbVrMtKsHlGjDfCeAzUoQi",
        "ALLOWED_HOSTS": ".textback.example",
        "BASE_DOMAIN": "textback.example",
        "PUBLIC_BASE_URL": "https://textback.example",
        "TWILIO_AUTH_TOKEN": "a-real-one",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
