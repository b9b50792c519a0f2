# The hub as a container: slim, non-root, the same `hub` entry point as everywhere else.
# Build: docker build -t unillm-hub .   Run: see compose.yaml and docs/deploy.md.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY connectors ./connectors
RUN pip install --no-cache-dir --disable-pip-version-check --prefix=/install .

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /app --uid 10001 hub
COPY --from=build /install /usr/local
WORKDIR /app
COPY --chown=hub:hub config ./config
USER hub
ENV HUB_CONFIG=/app/config/hub.toml PYTHONUNBUFFERED=1
EXPOSE 8080
ENTRYPOINT ["hub"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
