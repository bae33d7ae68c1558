"""A body sent chunked (no Content-Length) is read, within the size limit, by a
real gunicorn as by the WSGI wrapper alone."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from incidents.models import AlertDelivery, Incident
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import integration_create
from itsm.chunked import ChunkedBodyMiddleware
from tests.live_server import gunicorn_serving, request, server_env

ALERT = {"dedup_key": "backup-nightly", "title": "Nightly backup did not run"}


def _pieces(data: bytes, size: int = 7) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_reads_a_chunked_alert(tmp_path: Path) -> None:
    _, token = integration_create(name="streamer", kind="generic")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with gunicorn_serving(server_env(tmp_path), tmp_path / "gunicorn.log") as port:
        status, _, body = request(
            port,
            "POST",
            "/api/v1/alerts/",
            body=iter(_pieces(json.dumps(ALERT).encode())),
            headers=headers,
        )
        assert status == 202, body
        alerts_place_awaiting()
        assert Incident.objects.get().title == ALERT["title"]

        too_large = {**ALERT, "description": "x" * (1024 * 1024)}
        status, answer_headers, body = request(
            port,
            "POST",
            "/api/v1/alerts/",
            body=iter(_pieces(json.dumps(too_large).encode(), 64 * 1024)),
            headers=headers,
        )
        assert status == 413, body
        assert answer_headers["Content-Type"] == "application/json"
    assert AlertDelivery.objects.count() == 1


class _Recorder:
    """A WSGI application that keeps what it was given."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.length = environ.get("CONTENT_LENGTH")
        self.body = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b""]


def _environ(body: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        **extra,
    }


def test_a_chunked_body_gets_its_length(settings: Any) -> None:
    app = _Recorder()
    ChunkedBodyMiddleware(app)(_environ(b'{"a": 1}'), lambda *a: None)
    assert (app.length, app.body) == ("8", b'{"a": 1}')


def test_a_chunked_body_is_read_no_further_than_one_byte_past_the_limit(
    settings: Any,
) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 100 * 1024
    app = _Recorder()
    environ = _environ(b"x" * (10 * 1024 * 1024))
    stream = environ["wsgi.input"]
    ChunkedBodyMiddleware(app)(environ, lambda *a: None)
    assert stream.tell() == 100 * 1024 + 1
    assert app.length == str(100 * 1024 + 1)


@pytest.mark.parametrize(
    "extra",
    [
        {"CONTENT_LENGTH": "3"},  # a length was sent: Django reads by it
        {"wsgi.input_terminated": False},  # a server that does not end the input
        {"HTTP_TRANSFER_ENCODING": ""},
    ],
    ids=["with-length", "not-terminated", "not-chunked"],
)
def test_other_bodies_pass_untouched(extra: dict[str, Any]) -> None:
    app = _Recorder()
    environ = _environ(b"abc", **extra)
    ChunkedBodyMiddleware(app)(environ, lambda *a: None)
    assert app.length == extra.get("CONTENT_LENGTH")
