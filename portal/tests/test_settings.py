"""The settings refuse to run in production without a secret key, and read a local .env."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def _run(tmp_path, env_file_text=None, **env):
    env_file = tmp_path / "env"
    if env_file_text is not None:
        env_file.write_text(env_file_text)
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    clean.update(DJANGO_SETTINGS_MODULE="portal.settings", ENV_FILE=str(env_file), **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_without_a_secret_key_and_debug_off_the_portal_refuses_to_start(tmp_path):
    result = _run(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_runs_with_the_development_key(tmp_path):
    assert _run(tmp_path, DEBUG="1").stdout.strip() == "True"


def test_a_local_env_file_provides_the_key_and_the_environment_wins(tmp_path):
    assert _run(tmp_path, "# local\nSECRET_KEY=from-the-file\n").returncode == 0
    result = _run(tmp_path, "DEBUG=1\nSECRET_KEY=x\n", DEBUG="0")
    assert result.stdout.strip() == "False"
