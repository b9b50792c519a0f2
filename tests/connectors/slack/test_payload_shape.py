"""Interactivity payloads Bolt cannot route are refused before Bolt (found by the fuzz test:
`block_actions` with no actions was a 500 from Bolt's listener matching)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.slack.payload_shape import check_shape
from hub.errors import InvalidField

PRESS = {
    "type": "block_actions",
    "team": {"id": "T1"},
    "user": {"id": "U1"},
    "channel": {"id": "C1"},
    "message": {"ts": "1.2"},
    "actions": [{"action_id": "feedback", "block_id": "b1", "value": "up"}],
}


def test_a_press_as_slack_sends_it_passes() -> None:
    check_shape(PRESS, field="payload")
    check_shape(
        {**PRESS, "type": "interactive_message", "actions": [{"name": "x"}]}, field="payload"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"actions": []}, "payload.actions"),
        ({"actions": None}, "payload.actions"),
        ({"actions": "feedback"}, "payload.actions"),
        ({"actions": [{}]}, "payload.actions[0].action_id"),
        ({"actions": [{"action_id": 7}]}, "payload.actions[0].action_id"),
        ({"actions": [{"action_id": "a", "block_id": ["b"]}]}, "payload.actions[0].block_id"),
        ({"actions": [{"action_id": "a"}, "b"]}, "payload.actions"),
        ({"type": "interactive_message", "actions": []}, "payload.actions"),
    ],
)
def test_a_press_bolt_cannot_route_is_refused_by_name(change: dict[str, Any], field: str) -> None:
    payload = {**PRESS, **change}
    with pytest.raises(InvalidField) as refused:
        check_shape(payload, field="payload")
    assert refused.value.field == field


def test_a_press_without_actions_is_refused() -> None:
    payload = {key: value for key, value in PRESS.items() if key != "actions"}
    with pytest.raises(InvalidField) as refused:
        check_shape(payload, field="payload")
    assert refused.value.field == "payload.actions"
