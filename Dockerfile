# syntax=docker/dockerfile:1
#
# The Biz Portal image: one image for every role, chosen by the command
#   bizportal serve    (default) the HTTP API on :8000
#   bizportal worker   an arq worker (needs BIZPORTAL_REDIS_URL)
#   bizportal migrate  apply database migrations and exit
#   bizportal keys DIR write a set of signing keys (every api and worker must mount the same set)
# Configuration is the BIZPORTAL_* environment (see api/settings.py); see docker-compose.yml. Signing keys
# are mounted at run time (never copied into the image: .dockerignore keeps keys/ and *.pem out).

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the project and its dependencies into a self-contained venv --------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# .dockerignore keeps .venv, var/, .git, caches and test artefacts out of the context.
COPY . .
RUN pip install . \
    && bizportal --help > /dev/null

# --- runtime: the venv plus an unprivileged user, nothing else -----------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    BIZPORTAL_HOST=0.0.0.0 \
    BIZPORTAL_PORT=8000 \
    BIZPORTAL_DATA_DIR=/var/lib/bizportal

# The code stays root-owned (the app cannot rewrite itself); only the data dir is writable.
RUN groupadd --system --gid 10001 bizportal \
    && useradd --system --uid 10001 --gid bizportal --home-dir /var/lib/bizportal \
       --no-create-home --shell /usr/sbin/nologin bizportal \
    && mkdir -p /var/lib/bizportal \
    && chown bizportal:bizportal /var/lib/bizportal \
    && chmod 0750 /var/lib/bizportal

COPY --from=build /opt/venv /opt/venv

USER bizportal:bizportal
WORKDIR /var/lib/bizportal

EXPOSE 8000

# Liveness only (/readyz also checks the database and object store). No curl in slim images.
# Worker and migrate containers have no HTTP server: docker-compose.yml disables this for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BIZPORTAL_PORT', '8000'), timeout=4).read()"]

CMD ["bizportal", "serve"]
