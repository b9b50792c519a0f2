// The conformance cases the Vercel AI SDK can express (messages, tools, tool_choice, tool
// history, sampling options), driven by generateText and streamText through
// @ai-sdk/openai's chat model: straight at the fake upstream and through the hub, compared;
// and an agent loop (tools with execute, stopWhen) with two tool round trips.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';

import { OPENAI_MODEL, agentLoops, cases, plain, startWorld, stripHubSet } from './world.mjs';

const OPTIONS = {
  temperature: 'temperature',
  top_p: 'topP',
  stop: 'stopSequences',
  max_tokens: 'maxOutputTokens',
  seed: 'seed',
  frequency_penalty: 'frequencyPenalty',
  presence_penalty: 'presencePenalty',
};
const EXPRESSIBLE = new Set(['messages', 'tools', 'tool_choice', ...Object.keys(OPTIONS)]);

// The case's request as AI SDK call settings, or null when the SDK has no way to say it.
const settings = (request, implementations = null) => {
  if (!Object.keys(request).every((k) => EXPRESSIBLE.has(k))) return null;
  const names = {};
  const messages = [];
  for (const m of request.messages) {
    if (m.name !== undefined || m.role === 'developer') return null;
    if (m.role === 'tool') {
      messages.push({
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: m.tool_call_id,
            toolName: names[m.tool_call_id],
            output: { type: 'text', value: m.content },
          },
        ],
      });
      continue;
    }
    if (typeof m.content !== 'string' && m.content !== null) return null;
    if (m.role === 'assistant' && m.tool_calls) {
      for (const c of m.tool_calls) names[c.id] = c.function.name;
      messages.push({
        role: 'assistant',
        content: [
          ...(m.content ? [{ type: 'text', text: m.content }] : []),
          ...m.tool_calls.map((c) => ({
            type: 'tool-call',
            toolCallId: c.id,
            toolName: c.function.name,
            input: JSON.parse(c.function.arguments),
          })),
        ],
      });
      continue;
    }
    messages.push({ role: m.role, content: m.content ?? '' });
  }
  const out = { messages, maxRetries: 0 };
  if (request.tools) {
    out.tools = Object.fromEntries(
      request.tools.map((t) => [
        t.function.name,
        tool({
          description: t.function.description,
          inputSchema: jsonSchema(t.function.parameters ?? { type: 'object' }),
          ...(implementations ? { execute: implementations[t.function.name] } : {}),
        }),
      ]),
    );
  }
  const choice = request.tool_choice;
  if (choice !== undefined) {
    out.toolChoice =
      typeof choice === 'string' ? choice : { type: 'tool', toolName: choice.function.name };
  }
  for (const [field, name] of Object.entries(OPTIONS)) {
    if (request[field] !== undefined) out[name] = request[field];
  }
  return out;
};

// What the SDK hands the application.
const outcome = async (provider, model, call, stream) => {
  const chat = provider.chat(model);
  try {
    if (!stream) {
      const r = await generateText({ model: chat, ...call });
      return {
        ok: true,
        text: r.text,
        toolCalls: plain(r.toolCalls.map((c) => [c.toolCallId, c.toolName, c.input])),
        finishReason: r.finishReason,
        usage: plain(r.usage),
      };
    }
    let failure = null;
    const r = streamText({
      model: chat,
      ...call,
      onError: ({ error }) => {
        failure = error;
      },
    });
    const parts = [];
    for await (const part of r.textStream) parts.push(part);
    if (failure) throw failure;
    return {
      ok: true,
      text: parts.join(''),
      toolCalls: plain((await r.toolCalls).map((c) => [c.toolCallId, c.toolName, c.input])),
      finishReason: await r.finishReason,
      usage: plain(await r.usage),
    };
  } catch (error) {
    const api = APICallError.isInstance(error) ? error : error?.cause ?? error?.lastError;
    if (!APICallError.isInstance(api)) {
      // The SDK itself refused what it received (a chunk without `index`): the hub passed it
      // on as it was, so the SDK must refuse it the same way through the hub.
      return { ok: false, refused: error.name, message: String(error.message).split('\n')[0] };
    }
    return { ok: false, status: api.statusCode, body: JSON.parse(api.responseBody ?? 'null') };
  }
};

describe('Vercel AI SDK', () => {
  let world;
  let direct;
  let viaHub;

  before(async () => {
    world = await startWorld();
    direct = createOpenAI({ apiKey: 'sk-conformance', baseURL: world.openai });
    viaHub = createOpenAI({ apiKey: world.key, baseURL: world.hub });
  });

  after(async () => {
    if (world) await world.stop();
  });

  const expressible = cases().filter((c) => c.kind !== 'hub_only' && settings(c.request));
  it('expresses enough of the cases', () => {
    assert.ok(expressible.length >= 30, `${expressible.length} cases`);
  });

  for (const c of expressible) {
    for (const stream of [false, true]) {
      it(`${c.name} (${stream ? 'stream' : 'plain'})`, async () => {
        await world.advance();
        const call = settings(c.request);
        const expect = c.expect ?? {};
        if (c.kind === 'openai') {
          await world.script('openai', c.upstream);
          const straight = await outcome(direct, OPENAI_MODEL, call, stream);
          await world.script('openai', c.upstream);
          const hub = await outcome(viaHub, 'gpt', call, stream);
          const sent = await world.received('openai');
          assert.deepEqual(stripHubSet(sent.at(-1)), stripHubSet(sent.at(-2)));
          if (!straight.ok && straight.refused) {
            const strip = (o) => ({
              ...o,
              message: o.message.replace(/"(id|model)":"[^"]*",/g, ''),
            });
            assert.deepEqual(strip(hub), strip(straight));
            return;
          }
          if (!straight.ok) {
            assert.equal(hub.status, expect.status);
            if (expect.code) assert.equal(hub.body.error.code, expect.code);
            else assert.deepEqual(hub.body, straight.body);
            return;
          }
          assert.deepEqual(hub, straight);
          return;
        }
        await world.script('anthropic', c.upstream);
        const hub = await outcome(viaHub, c.model, call, stream);
        if (!expect.anthropic) {
          assert.equal(hub.status, expect.status);
          if (expect.error) assert.deepEqual(hub.body.error, expect.error);
          else assert.equal(hub.body.error.code, expect.code);
          return;
        }
        await world.script('openai', c.twin);
        const twin = await outcome(direct, OPENAI_MODEL, call, stream);
        assert.deepEqual(hub, twin);
      });
    }
  }

  for (const [model, wire] of [
    ['gpt', 'openai'],
    ['claude', 'anthropic'],
  ]) {
    for (const stream of [false, true]) {
      it(`agent loop: two tool round trips (${wire}, ${stream ? 'stream' : 'plain'})`, async () => {
        await world.advance();
      const loops = agentLoops();
        await world.script(wire, ...loops[wire]);
        const before = (await world.received(wire)).length;
        const call = settings(
          { messages: [{ role: 'user', content: loops.question }], tools: loops.tools },
          {
            get_weather: async ({ city }) => `sunny in ${city}`,
            get_time: async () => '12:00',
          },
        );
        const options = { model: viaHub.chat(model), ...call, stopWhen: stepCountIs(5) };
        const result = stream ? streamText(options) : await generateText(options);
        assert.equal(await result.text, loops.answer);
        assert.equal((await result.steps).length, 3);
        const sent = (await world.received(wire)).slice(before);
        assert.equal(sent.length, 3);
      });
    }
  }
});
