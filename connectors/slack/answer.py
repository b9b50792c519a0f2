"""One question answered end to end, in the background after the ack: claim the delivery, find
the paying team, build the context, stream the model's answer into Slack, settle, and say
clearly what went wrong when something does."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from connectors.slack import messages
from connectors.slack.adapter import Question, quote_question, request_for
from connectors.slack.client import api_error
from connectors.slack.config import SlackSettings
from connectors.slack.conversation import Thread, fit_context, read_thread
from connectors.slack.feedback import feedback_block
from connectors.slack.files import FileProblem, FileReader
from connectors.slack.runs import Run, Runs
from connectors.slack.streamed import StreamedReply
from connectors.slack.updated import UpdatedReply
from hub.answer_notes import answer_notes
from hub.errors import HubError
from hub.model import ChatRequest, Message, TextPart
from hub.service import Hub

log = logging.getLogger("connectors.slack.answer")
Reply = UpdatedReply | StreamedReply


@dataclass(frozen=True, slots=True)
class SlackSide:
    """What the job needs from the Slack request it came from."""

    client: AsyncWebClient
    bot_token: str
    bot_user_id: str | None
    bot_id: str | None
    set_status: AsyncSetStatus | None = None
    set_title: AsyncSetTitle | None = None


class Answerer:
    def __init__(
        self, hub: Hub, settings: SlackSettings, runs: Runs, *, file_hosts: tuple[str, ...]
    ):
        self._hub = hub
        self._settings = settings
        self._runs = runs
        self._file_hosts = file_hosts

    async def answer(self, question: Question, slack: SlackSide) -> None:
        # The first delivery of an event id wins; Slack's retries and duplicates stop here.
        if not await self._hub.deliveries.claim("slack", question.external_id):
            return
        tracing = self._hub.observability.tracing
        try:
            with tracing.event("slack", question.surface, conversation=question.reply_thread):
                await self._answer(question, slack)
        except SlackApiError as exc:
            error = api_error(exc)
            log.warning("slack refused a call while answering: %s", error)
            if error in ("not_in_channel", "channel_not_found"):
                await self.tell(question, slack, messages.NOT_IN_CHANNEL)
            else:
                await self.tell(question, slack, messages.SLACK_FAILED.format(error=error))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            # Slack (its API or the command's response_url) is unreachable: nothing here is a
            # bug, and there is no way left to tell the asker. The URL stays out of the log
            # (a response_url is a credential for 30 minutes).
            log.warning("could not reach Slack while answering (%s)", type(exc).__name__)
        finally:
            await self._hub.deliveries.complete("slack", question.external_id, None)

    async def _answer(self, question: Question, slack: SlackSide) -> None:
        caller = await self._hub.bindings.caller_for("slack", question.workspace)
        if caller is None:
            await self.tell(question, slack, messages.not_bound(question.workspace))
            return
        alias = (
            question.model
            or await self._hub.channels.get("slack", question.channel)
            or self._settings.default_model
        )
        thread: Thread | None = None
        if question.history_thread and question.message_ts:
            thread = await read_thread(
                slack.client,
                channel=question.channel,
                thread_ts=question.history_thread,
                before_ts=question.message_ts,
                bot_user_id=slack.bot_user_id,
                bot_id=slack.bot_id,
            )
            if question.needs_bot_in_thread and not thread.bot_participates:
                return
        try:
            model = self._hub.router.resolve(alias)
            reader = FileReader(
                self._hub.http, token=slack.bot_token, trusted_hosts=self._file_hosts
            )
            parts = await reader.parts(question.files, alias=model.alias, vision=model.vision)
        except (HubError, FileProblem) as exc:
            await self.tell(question, slack, exc.user_message)
            return
        # Providers join text parts without a separator: fold file texts into one part.
        texts = [question.text, *(p.text for p in parts if isinstance(p, TextPart))]
        images = tuple(p for p in parts if not isinstance(p, TextPart))
        current = Message("user", (TextPart("\n\n".join(t for t in texts if t)), *images))
        context, trimmed = fit_context(
            thread.history if thread else (),
            current,
            context_tokens=model.context_tokens,
            reserve_tokens=model.reply_room_tokens,
        )
        request = request_for(question, caller=caller, messages=context, alias=model.alias)
        if slack.set_status is not None:
            await slack.set_status("is thinking...")
        if slack.set_title is not None and thread is not None and not thread.earlier_user_messages:
            await slack.set_title(question.text[:80])
        await self._respond(question, slack, request, trimmed=trimmed)

    def _reply(self, question: Question, slack: SlackSide, run: Run, alias: str) -> Reply:
        clock = self._hub.clock
        if question.reply_thread is None:
            return UpdatedReply(
                slack.client,
                clock,
                channel=question.channel,
                thread_ts=None,
                header=quote_question(question.user, question.text, alias),
                stop_value=run.stop_value,
            )
        return StreamedReply(
            slack.client,
            clock,
            channel=question.channel,
            thread_ts=question.reply_thread,
            team_id=question.workspace,
            user_id=question.user,
            stop_value=run.stop_value,
        )

    async def _respond(
        self, question: Question, slack: SlackSide, request: ChatRequest, *, trimmed: bool
    ) -> None:
        run = self._runs.open(question.user)
        reply = self._reply(question, slack, run, request.model or "")
        run.generation = asyncio.create_task(self._generate(request, reply, run))
        try:
            await run.generation
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if run.stopped_by is None or (current is not None and current.cancelling()):
                await reply.abort()
                raise
            await reply.finish(run.text, footer=messages.STOPPED)
        except HubError as exc:
            if not reply.begun:
                await self.tell(question, slack, messages.for_error(exc))
                return
            await reply.finish(run.text, footer=f"_{messages.for_error(exc)}_")
        except BaseException:
            await reply.abort()
            raise
        else:
            buttons = None
            if self._settings.feedback_buttons and run.response_id is not None:
                buttons = feedback_block(run.response_id)
            footer = [messages.TRIMMED] if trimmed else []
            footer += [f"_{note}_" for note in run.notes]
            await reply.finish(run.text, footer="\n".join(footer) or None, closing=buttons)
        finally:
            self._runs.close(run)

    async def _generate(self, request: ChatRequest, reply: Reply, run: Run) -> None:
        async with self._hub.chat(request) as stream:
            await reply.begin()
            async for chunk in stream:
                if chunk.text:
                    run.text += chunk.text
                    reply.offer(run.text)
        if stream.result.usage_id is not None:
            run.response_id = stream.result.request_id  # settled: votes can find it
        run.notes = answer_notes(stream.result)

    async def tell(self, question: Question, slack: SlackSide, text: str) -> None:
        """One sentence to the asker: ephemeral for slash commands, else in the thread."""
        if question.surface == "command":
            if question.response_url:
                webhook = AsyncWebhookClient(question.response_url)
                await webhook.send(text=text, response_type="ephemeral")
                return
            await slack.client.chat_postEphemeral(
                channel=question.channel, user=question.user, text=text
            )
            return
        await slack.client.chat_postMessage(
            channel=question.channel, thread_ts=question.reply_thread, text=text
        )
