# Một Cửa — one image for web (gunicorn), Celery workers and beat. See docker-compose.yml and
# docs/scaling.md: workers run `celery -A portal worker -Q notifications,celery` and
# `celery -A portal worker -Q deadlines,bulk`; exactly one `celery -A portal beat`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Runtime dependencies only (not the [dev] extra), pinned by requirements.lock as constraints.
# This layer is rebuilt only when pyproject.toml or requirements.lock change.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c requirements.lock -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code runs from /app (PYTHONPATH), as in development; it stays owned by root.
COPY . .
RUN python dev.py compilemessages \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir -p /app/var/media /app/staticfiles \
    && chown -R app:app /app/var /app/staticfiles

USER app

# Static files are served by WhiteNoise from the image (no CDN). The key is a build-time dummy:
# settings refuse to start without one, and nothing secret is signed during collectstatic.
RUN SECRET_KEY=build-only-dummy-key DEBUG=0 CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput -v 0

EXPOSE 8000

# 2 workers x 4 threads: measured best on 2 cores (docs/benchmarks.md, "Load, intake and lookup
# under gunicorn"); about one worker per core, the threads overlap the waits on PostgreSQL/Redis.
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--access-logfile", "-", \
     "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s %(H)s\" %(s)s %(B)s %(L)s"]
