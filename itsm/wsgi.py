"""WSGI entry point, served by gunicorn in production (``itsm.wsgi:application``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")

from itsm.chunked import ChunkedBodyMiddleware  # noqa: E402 - needs the settings

application = ChunkedBodyMiddleware(get_wsgi_application())

# What is loaded by now (the apps, their models, the settings: some 140,000
# objects) lives as long as the process. Left to the collector, every full
# collection walked all of it again, stalling a request for about 60 ms every
# few hundred; frozen, a full collection walks only what requests made.
gc.freeze()
