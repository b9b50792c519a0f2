"""Every form of the dashboard that changes something refuses a POST without the session's
CSRF token, whoever is signed in: a property of all the routes, so a new page cannot forget."""

from __future__ import annotations

import re

from connectors.dashboard.config import DashboardSettings
from connectors.dashboard.plugin import DashboardConnector
from tests.connectors.dashboard.support import OPERATOR_KEY, dashboard_hub

# The sign-in forms have their own token (a cookie scoped to /login), tested in test_pages,
# test_sso and test_two_factor.
SIGN_IN = ("/login", "/login/code", "/login/team")


async def test_every_dashboard_post_without_the_csrf_token_is_refused(sqlite_url: str) -> None:
    async with dashboard_hub(sqlite_url) as dash:
        connector = DashboardConnector(dash.running.hub, DashboardSettings())
        posts = sorted(
            {
                re.sub(r"\{[^}]+\}", "1", route.path)
                for route in connector.routes()
                if getattr(route, "method", "") == "POST" and route.path not in SIGN_IN
            }
        )
        assert "/account/two-factor/rule" in posts and "/logout" in posts
        for key in (OPERATOR_KEY, dash.admin.key):
            async with dash.signed_in(key) as client:
                for path in posts:
                    for data in ({}, {"csrf": "forged"}):
                        response = await client.post(path, data=data)
                        assert response.status_code == 403, (path, key[:8], response.text[:200])
                assert (await client.get("/")).status_code == 200  # still signed in
