"""`${VAR}` and `${VAR:-default}` in string values, replaced before any value is typed, so
`"${FLAG:-false}"` becomes the boolean false and `"${PORT:-8080}"` the number 8080.

`${VAR}` with VAR unset is an error naming VAR and the key (an empty secret would otherwise
pass silently); `:-` takes the default when VAR is unset or empty, as the shell does.
`$${` is a literal `${`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hub.config.errors import ConfigError

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def substitute(value: Any, env: Mapping[str, str], *, path: str = "", source: str) -> Any:
    if isinstance(value, str):
        return _substitute_text(value, env, path=path, source=source)
    if isinstance(value, list):
        return [substitute(v, env, path=f"{path}[{i}]", source=source) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            k: substitute(v, env, path=f"{path}.{k}" if path else k, source=source)
            for k, v in value.items()
        }
    return value


def _substitute_text(text: str, env: Mapping[str, str], *, path: str, source: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, has_default, default = match.group(1), match.group(2), match.group(3)
        found = env.get(name)
        if has_default is not None:
            return found if found else default
        if found is None:
            raise ConfigError(
                f"{source}: {path} uses ${{{name}}}, which is not set: export {name}, "
                f"or write ${{{name}:-}} to allow it to be empty"
            )
        return found

    return _REFERENCE.sub(replace, text)
