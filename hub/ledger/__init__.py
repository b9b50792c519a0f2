"""The ledger: teams, keys, quotas with reserve-then-settle budgets, and usage records."""
