"""The hub's cost suggestions in the page's language: each sentence is the hub's own
(hub/suggestions.py, which the weekly report posts in English) used as the msgid, and its
values are written again from the suggestion's raw figures in the page's number formats.

`make i18n` takes the sentences from hub/suggestions.py too (the `Suggestion` keyword); the
place and advice phrases are marked here. A suggestion whose sentence has no translation is
shown as the hub wrote it.
"""

from __future__ import annotations

from gettext import NullTranslations

from connectors.dashboard.i18n import N_, Numbers
from hub.suggestions import PLATFORMS, Suggestion

# The advice of a cache suggestion, as hub/suggestions.py writes it.
ADVICE = (N_("a longer cache_ttl_s for it"), N_("the response cache on (cache_ttl_s)"))
MONEY = ("saving", "cost", "actual")
SHARES = {"share": 0, "rate": 1}  # decimals, as the hub writes them
COUNTS = ("requests", "repeated", "distinct", "failed", "routed")


def worded(suggestion: Suggestion, words: NullTranslations, numbers: Numbers) -> str:
    """The suggestion's sentence in the language of `words` and `numbers`."""
    translated = words.gettext(suggestion.template)
    if numbers.language == "en" or translated == suggestion.template:
        return suggestion.text  # the hub's English, with its own numbers
    params = dict(suggestion.params)
    figures = suggestion.figures
    for name in MONEY:
        if isinstance(value := figures.get(f"{name}_micros"), int):
            params[name] = numbers.usd(value)
    for name, digits in SHARES.items():
        if isinstance(value := figures.get(name), float):
            params[name] = numbers.percent(value, digits)
    for name in COUNTS:
        if isinstance(value := figures.get(name), int):
            params[name] = numbers.integer(value)
    if "connector" in figures:
        params["place"] = _place(figures, words)
    if "advice" in params:
        params["advice"] = words.gettext(params["advice"])
    return translated % params


def _place(figures: dict[str, int | float | str | None], words: NullTranslations) -> str:
    """hub.suggestions.place_of, translated."""
    connector, workspace, channel = (figures.get(k) for k in ("connector", "workspace", "channel"))
    platform = PLATFORMS.get(str(connector))
    if channel and platform:
        return words.gettext(N_("%(platform)s channel %(channel)s")) % {
            "platform": platform, "channel": channel}  # fmt: skip
    if workspace and platform == "Slack":
        return words.gettext(N_("Slack workspace %(workspace)s")) % {"workspace": workspace}
    if workspace and platform:
        return words.gettext(N_("Discord server %(workspace)s")) % {"workspace": workspace}
    return words.gettext(N_("the %(connector)s connector")) % {"connector": connector}
