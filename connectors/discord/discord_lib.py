"""discord.py, imported in one place without its import-time DeprecationWarning.

discord.py 2.x imports the standard library's deprecated `audioop` for voice, which the hub
never uses; the warning says nothing about our code, and test runs treat warnings as errors.
Modules here import `discord` from this module, never directly.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    import discord

__all__ = ["discord"]
