# mockspike as a container: `docker build -t mockspike .`, then
# `docker run -p 8000:8000 mockspike` (state in the process) or, shared with other replicas,
# `docker run -p 8000:8000 -e MOCKSPIKE_STATE=redis://redis:6379/0 mockspike`.
# It prints the URL to open and the admin token it made for /_mockspike/ (the admin API and
# dashboard); choose one with -e MOCKSPIKE_ADMIN_TOKEN=..., or -e MOCKSPIKE_ARGS=--admin-open.
# See docs/how-to/docker.md and compose.yaml for two replicas and Redis.
FROM python:3.12-slim

RUN useradd --create-home --uid 10001 mockspike
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockspike ./mockspike
RUN pip install --no-cache-dir ".[redis]"

USER mockspike
EXPOSE 8000
ENV MOCKSPIKE_STATE=memory \
    MOCKSPIKE_WORKERS=1
# 0.0.0.0 so the port can be published; the admin API then needs the token (printed, or
# MOCKSPIKE_ADMIN_TOKEN), except GET /_mockspike/health.
# MOCKSPIKE_ARGS adds options (--config, --script, --admin-open, --allowed-host …).
HEALTHCHECK --interval=10s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/_mockspike/health', timeout=2)"
CMD ["sh", "-c", "exec mockspike serve --host 0.0.0.0 --port 8000 --state \"$MOCKSPIKE_STATE\" --workers \"$MOCKSPIKE_WORKERS\" $MOCKSPIKE_ARGS"]
