"""The Stripe connector's part of /openapi.json."""

from __future__ import annotations

from typing import Any

from connectors.stripe.config import WEBHOOK_PATH as PATH


def fragment() -> dict[str, Any]:
    return {
        "tags": [{"name": "billing", "description": "Payment events from Stripe."}],
        "paths": {
            PATH: {
                "post": {
                    "tags": ["billing"],
                    "summary": "Receive a Stripe webhook event",
                    "description": "Verified with the `Stripe-Signature` header (the endpoint's "
                    "signing secret, `[billing.stripe] webhook_secret`) within five minutes. "
                    "`invoice.paid`, `invoice.payment_failed` and "
                    "`customer.subscription.deleted` update the team's billing status; each "
                    "event id is applied once.",
                    "parameters": [
                        {
                            "name": "Stripe-Signature",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "type", "data"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "type": {"type": "string"},
                                        "created": {"type": "integer"},
                                        "data": {"type": "object"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Received (applied, replayed, or ignored).",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "received": {"type": "boolean"},
                                            "result": {"type": "string"},
                                            "ignored": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        "400": {"description": "Bad or stale signature, or not an event."},
                    },
                }
            }
        },
    }
