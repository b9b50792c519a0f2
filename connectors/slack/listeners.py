"""Bolt listeners: each one parses its payload into a `Question`, acks, and leaves the answer
to a background task. Nothing here waits on a model."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient

from connectors.slack import messages
from connectors.slack.adapter import Question, Surface, parse_ask
from connectors.slack.answer import Answerer, SlackSide
from connectors.slack.commands import model_text, quota_text, usage_text
from connectors.slack.config import SlackSettings
from connectors.slack.conversation import clean_text, mentions, readable
from connectors.slack.feedback import FEEDBACK_ACTION, FeedbackListener
from connectors.slack.runs import CANCEL, SIGNAL_CHANNEL, Runs, parse_stop_value
from connectors.slack.updated import STOP_ACTION
from hub.service import Hub

Payload = dict[str, Any]
HANDLED_SUBTYPES = (None, "file_share")  # everything else is an edit, a join, a bot echo...
SUGGESTED_PROMPTS = [
    {"title": "Summarize", "message": "Summarize this text in three bullet points: "},
    {"title": "Explain code", "message": "Explain what this code does: "},
    {"title": "Draft a reply", "message": "Draft a friendly, short reply to: "},
]
GREETING = "Hi! Ask me anything; I answer with the model your team has set up."


class Listeners:
    def __init__(self, hub: Hub, settings: SlackSettings, runs: Runs, answerer: Answerer) -> None:
        self._hub = hub
        self._settings = settings
        self._runs = runs
        self._answerer = answerer

    def register(self, app: AsyncApp) -> None:
        assistant = AsyncAssistant()
        assistant.thread_started(self.on_thread_started)
        assistant.user_message(self.on_assistant_message)
        app.use(assistant)
        app.command("/ask")(self.on_ask)
        app.command("/usage")(self.on_usage)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.action(STOP_ACTION)(self.on_stop)
        app.action(FEEDBACK_ACTION)(FeedbackListener(self._hub).on_feedback)

    def _spawn(self, question: Question, slack: SlackSide) -> None:
        self._runs.spawn(
            self._answerer.answer(question, slack), name=f"slack-{question.external_id}"
        )

    @staticmethod
    def _side(context: AsyncBoltContext, client: AsyncWebClient, **extra: Any) -> SlackSide:
        return SlackSide(
            client=client,
            bot_token=context.bot_token or client.token or "",
            bot_user_id=context.bot_user_id,
            bot_id=context.bot_id,
            **extra,
        )

    async def on_ask(
        self, ack: AsyncAck, command: Payload, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        parsed = parse_ask(str(command.get("text", "")))
        workspace, user = str(command["team_id"]), str(command["user_id"])
        if parsed.kind == "help":
            await ack(response_type="ephemeral", text=messages.EMPTY_QUESTION)
        elif parsed.kind == "usage":
            text = await usage_text(self._hub, workspace=workspace, user=user)
            await ack(response_type="ephemeral", text=text)
        elif parsed.kind == "model":
            text = await model_text(
                self._hub,
                self._settings,
                workspace=workspace,
                user=user,
                channel=str(command["channel_id"]),
                alias=parsed.model,
            )
            await ack(response_type="ephemeral", text=text)
        elif parsed.kind == "quota":
            text = await quota_text(
                self._hub, workspace=workspace, user=user, target=parsed.target, limit=parsed.limit
            )
            await ack(response_type="ephemeral", text=text)
        else:
            await ack()
            question = Question(
                surface="command",
                workspace=workspace,
                user=user,
                channel=str(command["channel_id"]),
                text=readable(parsed.question),
                model=parsed.model,
                external_id=f"command:{command['trigger_id']}",
                response_url=command.get("response_url"),
            )
            self._spawn(question, self._side(context, client))

    async def on_usage(self, ack: AsyncAck, command: Payload) -> None:
        text = await usage_text(
            self._hub, workspace=str(command["team_id"]), user=str(command["user_id"])
        )
        await ack(response_type="ephemeral", text=text)

    async def on_mention(
        self, body: Payload, event: Payload, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        thread = event.get("thread_ts")
        question = Question(
            surface="mention",
            workspace=str(body.get("team_id") or context.team_id),
            user=str(event.get("user", "")),
            channel=str(event["channel"]),
            text=clean_text(str(event.get("text", "")), bot_user_id=context.bot_user_id),
            external_id=str(body["event_id"]),
            reply_thread=str(thread or event["ts"]),
            history_thread=thread,
            message_ts=str(event["ts"]),
            files=tuple(event.get("files") or ()),
        )
        self._spawn(question, self._side(context, client))

    async def on_message(
        self, body: Payload, event: Payload, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if event.get("subtype") not in HANDLED_SUBTYPES or event.get("bot_id"):
            return
        user = str(event.get("user", ""))
        if not user or user == context.bot_user_id:
            return
        text = str(event.get("text", ""))
        thread, ts = event.get("thread_ts"), str(event["ts"])
        is_dm = event.get("channel_type") == "im"
        surface: Surface
        if is_dm and thread is None:
            surface, needs_bot = "dm", False
        elif not is_dm and thread is not None and thread != ts:
            if mentions(text, context.bot_user_id):
                return  # the app_mention event answers this one
            surface, needs_bot = "thread", True
        else:
            return
        question = Question(
            surface=surface,
            workspace=str(body.get("team_id") or context.team_id),
            user=user,
            channel=str(event["channel"]),
            text=clean_text(text, bot_user_id=context.bot_user_id),
            external_id=str(body["event_id"]),
            reply_thread=str(thread or ts),
            history_thread=thread,
            message_ts=ts,
            needs_bot_in_thread=needs_bot,
            files=tuple(event.get("files") or ()),
        )
        self._spawn(question, self._side(context, client))

    async def on_assistant_message(
        self,
        body: Payload,
        payload: Payload,
        client: AsyncWebClient,
        context: AsyncBoltContext,
        set_status: AsyncSetStatus,
        set_title: AsyncSetTitle,
    ) -> None:
        if payload.get("subtype") not in HANDLED_SUBTYPES:
            return
        question = Question(
            surface="assistant",
            workspace=str(body.get("team_id") or context.team_id),
            user=str(payload.get("user", "")),
            channel=str(payload["channel"]),
            text=clean_text(str(payload.get("text", "")), bot_user_id=context.bot_user_id),
            external_id=str(body["event_id"]),
            reply_thread=str(payload["thread_ts"]),
            history_thread=str(payload["thread_ts"]),
            message_ts=str(payload["ts"]),
            files=tuple(payload.get("files") or ()),
        )
        side = self._side(context, client, set_status=set_status, set_title=set_title)
        self._spawn(question, side)

    async def on_thread_started(
        self, body: Payload, say: AsyncSay, set_suggested_prompts: AsyncSetSuggestedPrompts
    ) -> None:
        self._runs.spawn(
            self._greet(str(body["event_id"]), say, set_suggested_prompts), name="slack-greet"
        )

    async def _greet(
        self, event_id: str, say: AsyncSay, set_suggested_prompts: AsyncSetSuggestedPrompts
    ) -> None:
        if not await self._hub.deliveries.claim("slack", event_id):
            return
        await say(GREETING)
        await set_suggested_prompts(prompts=SUGGESTED_PROMPTS)

    async def on_stop(
        self, ack: AsyncAck, body: Payload, action: Payload, respond: AsyncRespond
    ) -> None:
        await ack()
        run_id, asker = parse_stop_value(str(action.get("value", "")))
        presser = str(body["user"]["id"])
        stopped = False if asker is not None and asker != presser else None
        if stopped is None:
            stopped = self._runs.stop(run_id, user=presser)
        if stopped is False:
            await respond(
                text="Only the person who asked can stop this answer.",
                response_type="ephemeral",
                replace_original=False,
            )
        elif stopped is None and self._hub.signals.shared:
            # Not running in this process: the process that runs it cancels it.
            await self._hub.signals.publish(SIGNAL_CHANNEL, CANCEL + run_id)
