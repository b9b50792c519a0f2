"""The Slack connector's part of /openapi.json: the one URL Slack posts events, slash
commands and interactivity to. Slack's own payloads are documented by Slack; this describes
what the hub checks and how it answers."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_ERROR: Schema = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error"],
}


def _header(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


def _error(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SlackError"}}},
    }


def fragment() -> dict[str, Any]:
    return {
        "tags": [{"name": "slack", "description": "Requests from Slack (signed by Slack)."}],
        "components": {"schemas": {"SlackError": _ERROR}},
        "paths": {
            "/slack/events": {
                "post": {
                    "tags": ["slack"],
                    "operationId": "slackEvents",
                    "summary": "Receive an event, slash command or interaction from Slack",
                    "description": "Verified with Slack's v0 signature over "
                    "`v0:timestamp:body` within five minutes; the headers are checked before "
                    "the body is read, and the body is read up to `[connectors.slack] "
                    "max_body_bytes`. Events arrive as JSON, slash commands and interactivity "
                    "as forms (interactivity's `payload` field holds JSON).",
                    "parameters": [
                        _header("X-Slack-Request-Timestamp", "Unix seconds, within 5 minutes."),
                        _header("X-Slack-Signature", "`v0=` and the HMAC-SHA256, in hex."),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "type": {"type": "string"},
                                        "event_id": {"type": "string"},
                                        "team_id": {"type": "string"},
                                        "event": {"type": "object"},
                                        "challenge": {"type": "string"},
                                    },
                                }
                            },
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "command": {"type": "string"},
                                        "text": {"type": "string"},
                                        "team_id": {"type": "string"},
                                        "user_id": {"type": "string"},
                                        "channel_id": {"type": "string"},
                                        "trigger_id": {"type": "string"},
                                        "payload": {"type": "string"},
                                    },
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": {"description": "Acknowledged (Bolt's answer to Slack)."},
                        "400": _error("Signed, but not a payload Slack sends."),
                        "401": _error("Not signed by Slack with this app's signing secret."),
                        "413": _error("Larger than `max_body_bytes`."),
                    },
                }
            }
        },
    }
