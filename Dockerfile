# The production image: gunicorn for the web, the same image runs the Celery worker
# and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --create-home --uid 1000 itsm

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN for pkg in itsm incidents kb reviews; do mkdir -p $pkg && touch $pkg/__init__.py; done \
    && pip install -e .

COPY . .
# Static files are hashed and compressed at build time; the throwaway key only lets
# the settings load (they refuse to start without a strong one).
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DEBUG=0 ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown itsm /app/var

USER itsm
EXPOSE 8000
CMD ["gunicorn", "itsm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
