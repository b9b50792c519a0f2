"""The response headers that say how the hub answered (issue #18).

`X-UniLLM-Deployment: <provider>/<upstream model>` names the deployment that produced the
answer (for a cache hit, the one that produced the cached answer); `X-UniLLM-Cache` is `hit`,
`miss` or `bypass` when the alias has a response cache. A client's `Cache-Control: no-cache`
(or `no-store`, `max-age=0`) bypasses the cache for that request. `X-UniLLM-Downgraded:
<alias>` is on every answer a budget downgrade gave from that alias instead of the one asked for.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.chat_stream import ChatStream

DEPLOYMENT_HEADER = "X-UniLLM-Deployment"
CACHE_HEADER = "X-UniLLM-Cache"
DOWNGRADED_HEADER = "X-UniLLM-Downgraded"


def routing_headers(stream: ChatStream) -> dict[str, str]:
    headers: dict[str, str] = {}
    deployment = stream.deployment  # worked out once (a property over the route and cache)
    if deployment:
        headers[DEPLOYMENT_HEADER] = deployment
    if stream.result.cache:
        headers[CACHE_HEADER] = stream.result.cache
    if stream.result.routed_by == "downgrade":
        headers[DOWNGRADED_HEADER] = stream.result.alias
    return headers


def bypasses_cache(headers: Mapping[str, str]) -> bool:
    value = headers.get("Cache-Control")
    if not value:  # most requests: no set built
        return False
    directives = {d.strip().lower() for d in value.split(",")}
    return bool(directives & {"no-cache", "no-store", "max-age=0"})
