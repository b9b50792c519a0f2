"""Stripe: customers, usage exported as billing meter events, and payment webhooks."""

from connectors.stripe.plugin import plugin

__all__ = ["plugin"]
