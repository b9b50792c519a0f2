"""A sign-in step that did not succeed, with the sentence to show, translatable.

The sentence is a gettext msgid marked with `N_` (so Babel extracts it where it is raised)
and its named values, formatted after translation: `exc.shown(translations)`. A sentence
with a count is made with `Refusal.ngettext(singular, plural, n)`.
"""

from __future__ import annotations

from collections.abc import Callable
from gettext import NullTranslations
from typing import Self

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
        self.plural: tuple[str, int] | None = None  # the plural msgid and the count

    @classmethod
    def ngettext(cls, singular: str, plural: str, n: int, **params: object) -> Self:
        """A refusal whose sentence depends on the count `n` (`%(num)s` in it); named after
        gettext's plural function so that `make i18n` extracts both sentences."""
        refusal = cls(singular if n == 1 else plural, num=n, **params)
        refusal.template, refusal.plural = singular, (plural, n)
        return refusal

    def shown(self, words: NullTranslations) -> str:
        if self.plural is None:
            translated = words.gettext(self.template)
        else:
            translated = words.ngettext(self.template, *self.plural)
        return translated % self.params if self.params else translated
