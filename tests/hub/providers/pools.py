"""Each test's provider transports (own pool and in-flight limit each), closed afterwards."""

from __future__ import annotations

from hub.config import ProviderSettings
from hub.providers.transport import ProviderTransport


class Pools:
    def __init__(self) -> None:
        self.made: list[ProviderTransport] = []

    def __call__(self, settings: ProviderSettings) -> ProviderTransport:
        transport = ProviderTransport(settings)
        self.made.append(transport)
        return transport

    async def close(self) -> None:
        for transport in self.made:
            await transport.close()
