"""The `hub` command."""

from hub.cli.main import main

__all__ = ["main"]
