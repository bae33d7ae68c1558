"""WSGI entry point, served by gunicorn in production (``itsm.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")

from itsm.chunked import ChunkedBodyMiddleware  # noqa: E402 - needs the settings

application = ChunkedBodyMiddleware(get_wsgi_application())
