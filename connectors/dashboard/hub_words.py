"""The hub services' fixed sentences that the dashboard's pages can show (a refused two-factor
code, a saved view too long), marked here so that `make i18n` takes them into the catalogue:
a page translates a service's message when the catalogue has it (`Kit.said`), and shows it as
the service wrote it otherwise. tests/connectors/dashboard/test_i18n.py checks that each is
still the service's own sentence."""

from __future__ import annotations

from connectors.dashboard.i18n import N_

SENTENCES = (
    # hub/two_factor.py
    N_("Two-factor sign-in is already set up; remove it first."),
    N_("There is no two-factor set-up waiting for a code; start again."),
    N_("That code is not the one the app shows now; try the next one."),
    N_("The set-up changed meanwhile; start again."),
    # hub/saved_views.py
    N_("This view's query is too long to save."),
    N_("No such saved view."),
)
