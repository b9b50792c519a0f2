"""authlib's httpx OAuth2 client, imported without its deprecation notice.

authlib 1.9.10 prefers the `httpx2` package and warns on every start when it falls back to
httpx, which the hub already depends on and which works the same; the notice would be the
only line of noise `make run` prints."""

from __future__ import annotations

import warnings

# Importing authlib.deprecate puts an "always" filter for its warnings first in the list;
# done before ours, ours goes in front of it.
import authlib.deprecate  # noqa: F401

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

__all__ = ["AsyncOAuth2Client", "OAuthError"]
