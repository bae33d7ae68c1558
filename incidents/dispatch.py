"""Asking a worker to run a task, by the task's name.

Services write the rows a task works on and ask for the task after commit; the
tasks call the services. Naming the task instead of importing it keeps that a
one-way dependency (tasks -> services), so no import circle closes through the
services (tests/incidents/test_import_cycles.py)."""

from __future__ import annotations

from celery import signature


def send_task_by_name(name: str, *args: object) -> None:
    """Queue task ``name`` with ``args``, without retrying a broker that cannot be
    reached (the caller's row is the guarantee; a beat sweep finds it). A task
    registered in this process goes through its own ``apply_async`` (so eager
    mode in tests still runs it); raises what the broker raises."""
    signature(name, args=args).apply_async(retry=False)
