"""`[security]`: the operator's admin key and the keys that encrypt stored secrets."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, PrivateAttr, model_validator

from hub.config.base import ConfigPath, Secret, Section


class SecuritySettings(Section):
    operator_key: Secret = Field(
        "", description="A key for the admin API that may act on every team. Empty: none."
    )
    secret_key: Secret = Field(
        "",
        description="Fernet key(s) for secrets the hub must read back (bot tokens, webhook "
        "secrets, provider keys), comma-separated: the first encrypts, all decrypt. "
        "`HUB_SECRET_KEY` overrides it.",
    )
    secret_key_file: ConfigPath | None = Field(
        None,
        description="A file holding the key(s) when secret_key is empty (`make run` writes "
        "var/secret-key).",
    )
    key_cache_s: float = Field(
        5.0,
        ge=0,
        le=300,
        description="Seconds an authenticated API key is served from memory. Revoking, "
        "rotating or restricting a key drops it at once in this process and, with Redis, in "
        "every process; without Redis another process (`hub key revoke`) is seen within this "
        "time. 0: read the database on every request.",
    )
    # Fernet keys, newest first, from secret_key or else the file.
    _secret_keys: tuple[str, ...] = PrivateAttr(default=())

    @property
    def secret_keys(self) -> tuple[str, ...]:
        return self._secret_keys

    @model_validator(mode="after")
    def _read_keys(self) -> SecuritySettings:
        value = self.secret_key
        if not value and self.secret_key_file is not None and self.secret_key_file.is_file():
            value = _read(self.secret_key_file)
        keys = tuple(k.strip() for k in value.split(",") if k.strip())
        for key in keys:
            try:
                Fernet(key.encode())
            except ValueError:
                raise ValueError(
                    "the secret key (HUB_SECRET_KEY, secret_key or secret_key_file) is not a "
                    'Fernet key: generate one with `python -c "from cryptography.fernet '
                    'import Fernet; print(Fernet.generate_key().decode())"`'
                ) from None
        self._secret_keys = keys
        return self


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ValueError(f"cannot read secret_key_file {path}: {exc.strerror}") from None
