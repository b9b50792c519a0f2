"""A sign-in step that did not succeed, with the sentence to show, translatable.

The sentence is a gettext msgid marked with `N_` (so Babel extracts it where it is raised)
and its named values, formatted after translation: `exc.shown(gettext)`.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.dashboard.i18n import N_
from hub.errors import NotFound

__all__ = ["N_", "Missing", "Refusal", "Worded"]


class Worded:
    """Mixed into a HubError raised by the dashboard: its sentence is a msgid and its values,
    so a page can show it in the request's language (`shown`); `user_message` stays the
    English sentence (logs, JSON errors)."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params if params else template)  # type: ignore[call-arg]
        self.template = template
        self.params = params

    def shown(self, gettext: Callable[[str], str]) -> str:
        translated = gettext(self.template)
        return translated % self.params if self.params else translated


class Missing(Worded, NotFound):
    """Not found (404), worded for translation."""


class Refusal(Exception):
    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params

    def shown(self, gettext: Callable[[str], str]) -> str:
        translated = gettext(self.template)
        return translated % self.params if self.params else translated
