# The hub as a container: slim, non-root, the same `hub` entry point as everywhere else.
# Build: docker build -t unillm-hub .   Run: see compose.yaml and docs/deploy.md.
# BASE: any image with Python 3.11+ and its venv module (`python3 -m venv`), for a registry
# mirror or a locally made base (docs/deploy.md: how the image was built and run here).
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
# A TLS-intercepting proxy's CA bundle, for pip (a path inside the build, e.g. a bind mount).
ARG PIP_CERT=
WORKDIR /src
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY connectors ./connectors
# A venv at /opt/hub, copied whole into the final stage: its scripts' #! lines name
# /opt/hub/bin/python, which is where it stays (a --prefix tree would need PYTHONPATH).
RUN if [ -z "$PIP_CERT" ]; then unset PIP_CERT; fi \
 && python3 -m venv /opt/hub \
 && /opt/hub/bin/pip install --no-cache-dir --disable-pip-version-check --no-input /src \
 && /opt/hub/bin/hub --version

FROM ${BASE}
RUN useradd --system --create-home --home-dir /app --uid 10001 hub
COPY --from=build /opt/hub /opt/hub
WORKDIR /app
# config/: the demo config (`docker run unillm-hub` serves the demo, SQLite under /app/var);
# deploy/hub.toml: the production shape's, everything from the environment (compose.yaml).
COPY --chown=hub:hub config/hub.toml config/hub.example.toml ./config/
COPY --chown=hub:hub deploy/hub.toml ./deploy/
USER hub
ENV PATH=/opt/hub/bin:$PATH HUB_CONFIG=/app/config/hub.toml PYTHONUNBUFFERED=1
EXPOSE 8080
ENTRYPOINT ["hub"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
