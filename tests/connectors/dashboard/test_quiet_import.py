"""The dashboard loads without a line on stderr (make run prints only the hub's own lines)."""

from __future__ import annotations

import subprocess
import sys

# `make run` installs what serving needs, without the httpx2 package that authlib 1.9.10
# prefers (the dev tools bring it); sys.modules[...] = None makes its import fail the same way.
WITHOUT_HTTPX2 = (
    "import sys; sys.modules['httpx2'] = None; "
    "import connectors.dashboard.oidc, connectors.dashboard.discord_oauth"
)


def test_the_dashboard_imports_without_a_warning() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX2], capture_output=True, text=True, check=True
    )
    assert done.stderr == ""
