"""`hub simulate slack`: a slash command or a mention, signed with the signing secret as Slack
signs it (v0 HMAC over `v0:timestamp:body`), sent to a running hub's /slack/events.

Slack answers a slash command twice: the HTTP response (an acknowledgement, or an ephemeral
reply such as `/ask usage`) and later posts through `response_url` or the Web API. This
listens on 127.0.0.1 for `response_url` posts and prints them too; what the bot posts with
chat.postMessage goes to `[connectors.slack] api_base_url` (Slack itself in production).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import click
from aiohttp import web

from connectors.slack.config import SlackSettings
from connectors.slack.verify import sign
from hub.cli.context import CliContext
from hub.cli.simulate import endpoint, post, require_ok, sent, show


@click.command("slack")
@click.option("--url", required=True, help="The running hub, e.g. http://127.0.0.1:8080.")
@click.option("--text", default="Hello from hub simulate!", show_default=True)
@click.option("--command", default="/ask", show_default=True, help="The slash command.")
@click.option("--mention", is_flag=True, help="Send an app_mention event instead.")
@click.option("--workspace", default="T0SIMULATE", show_default=True, help="Workspace id.")
@click.option("--user", default="U0SIMULATE", show_default=True, help="Slack user id.")
@click.option("--channel", default="C0SIMULATE", show_default=True, help="Channel id.")
@click.option("--bot-user", default="U0HUBBOT", show_default=True, help="The bot's user id.")
@click.option("--signing-secret", help="Default: [connectors.slack] signing_secret.")
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=2.0,
    show_default=True,
    help="Seconds to wait for posts to response_url after the acknowledgement.",
)
@click.pass_obj
def simulate_slack(
    ctx: CliContext,
    url: str,
    text: str,
    command: str,
    mention: bool,
    workspace: str,
    user: str,
    channel: str,
    bot_user: str,
    signing_secret: str | None,
    wait: float,
) -> None:
    """Send a signed slash command (or, with --mention, an app_mention) to /slack/events."""
    target = endpoint(url, "/slack/events")
    if signing_secret is None:
        settings = SlackSettings.model_validate(ctx.settings.connector("slack"))
        if settings.socket_mode:
            raise click.UsageError(
                "this hub uses Socket Mode, so Slack sends it nothing over HTTP; "
                "pass --signing-secret to try another hub"
            )
        signing_secret = settings.signing_secret
    if not signing_secret:
        raise click.UsageError(
            "no signing secret: set [connectors.slack] signing_secret (SLACK_SIGNING_SECRET) "
            "or pass --signing-secret"
        )
    asyncio.run(
        _simulate(
            target,
            secret=signing_secret,
            text=text,
            command=command,
            mention=mention,
            ids=(workspace, user, channel, bot_user),
            wait=wait,
        )
    )


async def _simulate(
    target: str,
    *,
    secret: str,
    text: str,
    command: str,
    mention: bool,
    ids: tuple[str, str, str, str],
    wait: float,
) -> None:
    workspace, user, channel, bot_user = ids
    async with _response_listener() as (response_url, posts):
        if mention:
            body = json.dumps(_mention(workspace, user, channel, bot_user, text)).encode()
            kind, content_type = f"app_mention <@{bot_user}> {text}", "application/json"
        else:
            fields = _slash(workspace, user, channel, command, text, response_url)
            body = urlencode(fields).encode()
            kind, content_type = f"{command} {text}", "application/x-www-form-urlencoded"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(secret, timestamp, body),
        }
        sent("POST", target, kind)
        response = await post(target, body=body, headers=headers)
        show(response)
        require_ok(response)
        if mention or wait == 0:
            return
        try:
            async with asyncio.timeout(wait):
                while True:
                    click.echo("<- response_url: " + json.dumps(await posts.get()))
        except TimeoutError:
            pass


def _slash(
    workspace: str, user: str, channel: str, command: str, text: str, response_url: str
) -> dict[str, str]:
    return {
        "token": "simulated",  # deprecated verification token; the signature is what counts
        "team_id": workspace,
        "team_domain": "simulated",
        "channel_id": channel,
        "channel_name": "simulated",
        "user_id": user,
        "user_name": "simulated",
        "command": command,
        "text": text,
        "api_app_id": "A0SIMULATE",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.{secrets.token_hex(8)}",
    }


def _mention(
    workspace: str, user: str, channel: str, bot_user: str, text: str
) -> dict[str, object]:
    ts = f"{time.time():.6f}"
    return {
        "token": "simulated",
        "team_id": workspace,
        "api_app_id": "A0SIMULATE",
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(8).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": workspace, "user_id": bot_user, "is_bot": True, "enterprise_id": None}
        ],
        "event": {
            "type": "app_mention",
            "user": user,
            "text": f"<@{bot_user}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "team": workspace,
        },
    }


@asynccontextmanager
async def _response_listener() -> AsyncIterator[tuple[str, asyncio.Queue[object]]]:
    """A response_url on 127.0.0.1 that prints what the hub posts to it."""
    posts: asyncio.Queue[object] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            await posts.put(json.loads(raw))
        except ValueError:
            await posts.put(raw.decode(errors="replace"))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/response", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/response", posts
    finally:
        await runner.cleanup()
