"""Billing: the price catalog, plans and subscriptions, invoices from the ledger, and the
durable export of usage to a payment platform (the platform itself is a connector)."""
