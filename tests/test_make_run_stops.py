"""Ctrl-C on ``make run`` stops the Celery worker cleanly: honcho sends SIGTERM to
each process's group and SIGKILLs what is still running 5 s later. The dev
worker runs its tasks in threads, so the group signal reaches only the main
process, which lets the running tasks finish and exits (a prefork pool's
children were signalled too, died under their tasks and logged a
WorkerLostError traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import processes, project_env

BIN = Path(sys.executable).parent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_worker_and_beat_without_a_kill_or_a_traceback(
    tmp_path: Path,
) -> None:
    lines = (Path(settings.BASE_DIR) / "Procfile.dev").read_text().splitlines()
    wanted = [line for line in lines if line.startswith(("worker:", "beat:"))]
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "\n".join(wanted).replace(
            "var/celerybeat-schedule", str(tmp_path / "beat-schedule")
        )
        + "\n"
    )
    log = tmp_path / "honcho.log"
    with processes(tmp_path) as run:
        _, redis_url = run.redis()
        env = project_env(tmp_path, redis_url, SLA_SWEEP_SECONDS="1")
        env["PATH"] = f"{BIN}:{env['PATH']}"
        env["PYTHONPATH"] = str(settings.BASE_DIR)
        with log.open("w") as out:
            honcho = subprocess.Popen(
                [str(BIN / "honcho"), "--procfile", str(procfile), "start"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                run.wait_until(
                    "the worker ran beat's tasks",
                    lambda: (
                        "sla_sweep_task" in log.read_text()
                        and "succeeded" in log.read_text()
                    ),
                )
                started = time.monotonic()
                os.killpg(honcho.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
                honcho.wait(timeout=30)
                took = time.monotonic() - started
            finally:
                if honcho.poll() is None:
                    os.killpg(honcho.pid, signal.SIGKILL)
    text = log.read_text()
    assert "Warm shutdown" in text, text[-3000:]
    assert "SIGKILL" not in text, text[-3000:]
    assert "Traceback" not in text and "WorkerLostError" not in text, text[-3000:]
    assert "worker.1 stopped" in text and "beat.1 stopped" in text
    assert took < 5, text[-3000:]  # honcho's KILL_WAIT: never reached
