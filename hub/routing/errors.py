"""The routing refusals, in the hub's error tree (hub/errors.py).

BadRequest
└── NoCapableDeployment    no deployment of the alias can take the request
ProviderUnavailable
└── AllCircuitsOpen        every deployment of the alias is paused; says which and until when
"""

from __future__ import annotations

from datetime import datetime

from hub.errors import BadRequest, ProviderUnavailable


class NoCapableDeployment(BadRequest):
    code = "no_capable_deployment"


class AllCircuitsOpen(ProviderUnavailable):
    code = "all_deployments_paused"

    def __init__(self, alias: str, paused: list[tuple[str, datetime, str]], retry_after: float):
        names = "; ".join(
            f"{label} until {until.strftime('%H:%M:%S')} UTC ({reason})"
            for label, until, reason in paused
        )
        super().__init__(
            f"Every deployment of model '{alias}' is paused after repeated failures: {names}. "
            f"Try again in {retry_after:g} seconds.",
            retry_after=retry_after,
            attempts=0,
        )
        self.alias = alias
        self.paused = paused
