# IntelliFlow CRM application image: slim Python, non-root, gunicorn, health check on /health/ping.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GUNICORN_BIND=0.0.0.0:8000 \
    DJANGO_STATIC_MANIFEST=true

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# Static files (admin, Swagger UI, the site's own) collected at build time with the manifest
# storage DJANGO_STATIC_MANIFEST selects: hashed names, gzip and Brotli copies; WhiteNoise
# serves them with a year's immutable caching.
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app intelliflow \
    && chown -R intelliflow /app/staticfiles

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=2s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/ping', timeout=1).status == 200 else 1)"
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
