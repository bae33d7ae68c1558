"""Ctrl-C on ``make run`` stops the Celery worker cleanly: honcho sends SIGTERM to
each process's group and SIGKILLs what is still running 5 s later. The dev
worker runs its tasks in threads and is exec'd by honcho's shell, so the group
is that one process: it lets the running tasks finish and exits 0 (a prefork
pool's children were signalled too and died under their tasks with a
WorkerLostError traceback, and the shell in front died of the signal)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import processes, project_env

BIN = Path(sys.executable).parent


def _group_members(pgid: int) -> int:
    """How many live processes are in process group ``pgid`` (from /proc)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            count += 1
    return count


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
                # What the group signal reaches: the worker's main process only
                # (a prefork pool's children share its group and died under it).
                [worker_pid] = re.findall(
                    r"worker\.1 started \(pid=(\d+)\)", log.read_text()
                )
                assert _group_members(int(worker_pid)) == 1, log.read_text()[-3000:]
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
    # Their own clean exits (a shell killed in their place would say rc=-15).
    assert "worker.1 stopped (rc=0)" in text and "beat.1 stopped (rc=0)" in text
    assert took < 5, text[-3000:]  # honcho's KILL_WAIT: never reached
