"""The WSGI entry point, as gunicorn loads it."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

CODE = "import gc, itsm.wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"


def test_what_is_loaded_at_start_is_kept_out_of_every_collection() -> None:
    # A fresh process, as a worker starts: the app loaded, then frozen, so a full
    # collection walks only what requests made since.
    answer = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "itsm.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    frozen, tracked = (int(n) for n in answer.stdout.split()[-2:])
    assert frozen > 50_000 and tracked < frozen / 10
