"""/openapi.json is a valid OpenAPI 3.1 document describing every route the app serves, and
only those (a disabled connector's paths are absent); /docs renders it without the network."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from connectors.admin_api import plugin as admin_api
from connectors.openai_api import plugin as openai_api
from connectors.webhooks import plugin as webhooks
from connectors.zapier import plugin as zapier
from hub.connector import openapi_fragment
from hub.openapi import DocumentConflict, build_document
from tests.support.hubs import RunningHub, start_hub

METHODS = ("get", "post", "put", "patch", "delete")


async def served(sqlite_url: str, plugins: list[Any]) -> tuple[RunningHub, dict[str, Any]]:
    running = await start_hub({}, database_url=sqlite_url)
    await running.serve(plugins=plugins)
    async with running.client() as c:
        response = await c.get("/openapi.json")
    assert response.status_code == 200
    return running, response.json()


def app_operations(running: RunningHub) -> set[tuple[str, str]]:
    """Every operation served, but the catch-all that answers unknown paths with errors (the
    OpenAI API's 404/405 JSON for /v1/*): it serves nothing to describe."""
    assert running.runner is not None
    return {
        (r.method.lower(), r.resource.canonical)
        for r in running.runner.app.router.routes()
        if r.resource is not None and r.method not in ("HEAD", "*")
    }


def documented(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(m, path) for path, item in document["paths"].items() for m in item if m in METHODS}


async def test_document_is_valid_31_and_covers_every_route(sqlite_url: str) -> None:
    running, document = await served(sqlite_url, [openai_api, webhooks, zapier, admin_api])
    try:
        OpenAPIV31SpecValidator(document).validate()
        assert document["openapi"] == "3.1.0"
        assert documented(document) == app_operations(running)
        schemes = document["components"]["securitySchemes"]
        assert schemes["teamKeyBearer"] == {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["teamKeyBearer"]["description"],
        }
        assert (schemes["zapierApiKey"]["in"], schemes["zapierApiKey"]["name"]) == (
            "header",
            "X-API-Key",
        )
        assert schemes["adminBearer"]["scheme"] == "bearer"
        hook = document["paths"]["/hooks/{hook_id}"]["post"]
        headers = {p["name"] for p in hook["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        for path, item in document["paths"].items():
            for method in set(item) & set(METHODS):
                operation = item[method]
                assert operation["summary"] and operation["responses"], (method, path)
                if method in ("post", "put", "patch") and "/admin/" not in path:
                    assert "requestBody" in operation, (method, path)
        ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
        assert len(ids) == len(set(ids))
    finally:
        await running.close()


async def test_disabled_connectors_are_not_described(sqlite_url: str) -> None:
    running, document = await served(sqlite_url, [openai_api])
    try:
        OpenAPIV31SpecValidator(document).validate()
        assert sorted(document["paths"]) == [
            "/docs",
            "/healthz",
            "/metrics",
            "/openapi.json",
            "/readyz",
            "/v1/chat/completions",
            "/v1/embeddings",
            "/v1/feedback",
            "/v1/models",
            "/v1/models/{model}",
        ]
        assert set(document["components"]["securitySchemes"]) == {"teamKeyBearer"}
    finally:
        await running.close()


async def test_docs_page_is_self_contained(sqlite_url: str) -> None:
    running, _ = await served(sqlite_url, [openai_api, admin_api])
    try:
        async with running.client() as c:
            page = await c.get("/docs")
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        html = page.text
        assert 'fetch("/openapi.json")' in html
        # Nothing is loaded from elsewhere: no external script, style, font or image.
        assert re.findall(r"(?:src|href)\s*=\s*[\"'](?!/openapi.json)", html) == []
        assert re.findall(r"https?://", html) == []
        assert "@import" not in html and "url(" not in html
        assert ".innerHTML" not in html  # text only: the document cannot inject markup
    finally:
        await running.close()


def test_conflicting_fragments_are_refused() -> None:
    one = {"paths": {"/x": {"get": {"summary": "one", "responses": {}}}}}
    two = {"paths": {"/x": {"get": {"summary": "two", "responses": {}}}}}
    assert build_document([one, one])["paths"]["/x"] == one["paths"]["/x"]
    with pytest.raises(DocumentConflict, match="paths '/x'"):
        build_document([one, two])


def test_plugins_without_the_hook_document_nothing() -> None:
    class Bare:
        name = "bare"
        enabled_by_default = False

    assert openapi_fragment(Bare()) is None  # type: ignore[arg-type]
    assert openapi_fragment(openai_api) is not None
