"""The WSGI module, as gunicorn loads it: the views loaded, what was made set aside from the
garbage collector (portal.wsgi._settle)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_application_loads_the_views_and_freezes_what_it_made():
    probe = (
        "import gc, json, sys; import portal.wsgi; "
        "print(json.dumps([gc.get_freeze_count(), 'dossiers.api.views' in sys.modules]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "SECRET_KEY": "x"}

    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout

    frozen, views_loaded = json.loads(out.splitlines()[-1])
    assert views_loaded
    assert frozen > 10_000  # Django, DRF and the project's modules, not a handful
