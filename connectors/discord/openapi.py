"""The Discord connector's part of /openapi.json: the interactions endpoint (signed by
Discord with Ed25519). Discord documents its interaction objects; this describes what the hub
checks and how it answers."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _header(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


def _error(description: str) -> Schema:
    schema = {"$ref": "#/components/schemas/DiscordError"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def fragment() -> dict[str, Any]:
    return {
        "tags": [{"name": "discord", "description": "Interactions from Discord (signed)."}],
        "components": {
            "schemas": {
                "DiscordError": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                }
            }
        },
        "paths": {
            "/discord/interactions": {
                "post": {
                    "tags": ["discord"],
                    "operationId": "discordInteractions",
                    "summary": "Receive an interaction (PING, a slash command, a button)",
                    "description": "Verified with Ed25519 over timestamp + body against the "
                    "application's public key, the timestamp within five minutes; the headers "
                    "are checked before the body is read, and the body is read up to "
                    "`[connectors.discord] max_body_bytes`.",
                    "parameters": [
                        _header("X-Signature-Ed25519", "The signature, 128 hex digits."),
                        _header("X-Signature-Timestamp", "Unix seconds, within 5 minutes."),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "string"},
                                        "application_id": {"type": "string"},
                                        "type": {"type": "integer"},
                                        "token": {"type": "string"},
                                        "data": {"type": "object"},
                                        "guild_id": {"type": "string"},
                                        "channel_id": {"type": "string"},
                                    },
                                    "required": ["id", "type"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "An interaction response (PONG, a message, or a "
                            "deferred response whose answer follows).",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": _error("Signed, but not an interaction."),
                        "401": _error("Not signed with the application's key."),
                        "413": _error("Larger than `max_body_bytes`."),
                    },
                }
            }
        },
    }
