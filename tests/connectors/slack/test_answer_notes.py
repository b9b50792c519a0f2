"""Answers name the deployment that served them when the alias sets `show_model`, and a
budget downgrade is told in the answer once (hub/answer_notes.py)."""

from __future__ import annotations

from hub.answer_notes import answer_notes
from hub.model import ChatResult
from tests.connectors.slack.conftest import HarnessFactory, hub_config
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.fakes.slack_api import FakeSlack


async def test_show_model_names_the_deployment_under_the_answer(
    slack_hub: HarnessFactory, fake_openai: FakeOpenAI, fake_slack: FakeSlack
) -> None:
    config = hub_config(fake_openai, fake_slack)
    config["models"]["default"]["show_model"] = True
    async with slack_hub(config=config) as h:
        h.llm.script(reply("Forty-two."))
        await h.mention("what is the answer")
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        answer = h.slack.messages[str(stop.args["ts"])].text
        assert answer.startswith("Forty-two.")
        assert answer.endswith("_Answered by up/gpt-4o-mini._")


async def test_without_show_model_the_answer_is_only_the_answer(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("Forty-two."))
        await h.mention("what is the answer")
        stop = await h.slack.wait_for("chat.stopStream")
        await h.connector.drain()
        assert h.slack.messages[str(stop.args["ts"])].text == "Forty-two."


def test_a_downgrade_notice_comes_before_the_deployment() -> None:
    result = ChatResult(request_id="r1", alias="cheap")
    assert answer_notes(result) == ()
    result.deployment, result.show_model = "up/gpt-4o-mini", True
    result.notice = "Your team is past 90% of its budget: answers come from `cheap`."
    assert answer_notes(result) == (result.notice, "Answered by up/gpt-4o-mini.")
