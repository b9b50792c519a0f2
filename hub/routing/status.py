"""The read API of deployment health, for the admin API, `hub deployments` and metrics (#17).

for status in hub.deployment_status():   # every configured deployment, config order
    status.circuit.state                 # closed | open | half_open (shared across processes)
    status.health.ttft_ms                # this process's PeakEWMA time to first token
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.config import ModelSettings
from hub.routing.circuits import Circuits, CircuitView
from hub.routing.health import HealthBoard, HealthSnapshot


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    label: str  # provider/model, the circuit's key
    provider: str
    model: str
    aliases: tuple[str, ...]
    circuit: CircuitView
    health: HealthSnapshot

    def as_json(self) -> dict[str, Any]:
        circuit, health = self.circuit, self.health
        return {
            "deployment": self.label,
            "provider": self.provider,
            "model": self.model,
            "aliases": list(self.aliases),
            "circuit": {
                "state": circuit.state,
                "until": circuit.until.isoformat() if circuit.until else None,
                "opens": circuit.opens,
                "consecutive_failures": circuit.consecutive_failures,
                "reason": circuit.reason or None,
            },
            "in_flight": health.in_flight,
            "requests": health.requests,
            "failures": health.failures,
            "error_rate": round(health.error_rate, 4),
            "window_requests": health.window_requests,
            "ttft_ms": health.ttft_ms,
            "latency_ms": health.latency_ms,
            "last_error": health.last_error,
        }


def deployment_status(
    models: Mapping[str, ModelSettings], circuits: Circuits, health: HealthBoard
) -> list[DeploymentStatus]:
    aliases: dict[str, list[str]] = {}
    parts: dict[str, tuple[str, str]] = {}
    for model in models.values():
        for deployment in model.deployments:
            aliases.setdefault(deployment.label, []).append(model.alias)
            parts[deployment.label] = (deployment.provider, deployment.model)
    return [
        DeploymentStatus(
            label=label,
            provider=parts[label][0],
            model=parts[label][1],
            aliases=tuple(names),
            circuit=circuits.view(label),
            health=health.snapshot(label),
        )
        for label, names in aliases.items()
    ]
