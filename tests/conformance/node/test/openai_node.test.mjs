// The conformance cases driven by openai-node, plain and streamed: each case straight at the
// fake upstream and through the hub, compared; and an agent loop (runTools) with two tool
// round trips through the hub, to an OpenAI-compatible and to an Anthropic upstream.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import OpenAI from 'openai';

import {
  OPENAI_MODEL,
  accumulate,
  agentLoops,
  cases,
  plain,
  startWorld,
  stripHubSet,
  without,
} from './world.mjs';

const MODES = [false, true];

const call = async (client, model, request, stream) => {
  const extra = stream ? { stream: true, stream_options: { include_usage: true } } : {};
  try {
    const { data, response } = await client.chat.completions
      .create({ model, ...request, ...extra })
      .withResponse();
    const objects = [];
    if (stream) {
      for await (const chunk of data) objects.push(plain(chunk));
    } else {
      objects.push(plain(data));
    }
    return { status: response.status, objects, headers: response.headers };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return { status: error.status, objects: [], headers: error.headers, error: plain(error.error) };
  }
};

describe('openai-node', () => {
  let world;
  let direct;
  let viaHub;

  before(async () => {
    world = await startWorld();
    direct = new OpenAI({ apiKey: 'sk-conformance', baseURL: world.openai, maxRetries: 0 });
    viaHub = new OpenAI({ apiKey: world.key, baseURL: world.hub, maxRetries: 0 });
  });

  after(async () => {
    if (world) await world.stop();
  });

  for (const c of cases()) {
    for (const stream of MODES) {
      it(`${c.name} (${stream ? 'stream' : 'plain'})`, async () => {
        await world.advance();
        const expect = c.expect ?? {};
        if (c.kind === 'openai') {
          await world.script('openai', c.upstream);
          const straight = await call(direct, OPENAI_MODEL, c.request, stream);
          await world.script('openai', c.upstream);
          const hub = await call(viaHub, 'gpt', c.request, stream);
          const sent = await world.received('openai');
          assert.deepEqual(stripHubSet(sent.at(-1)), stripHubSet(sent.at(-2)));
          assert.equal(sent.at(-1).model, OPENAI_MODEL);
          if (straight.status >= 400) {
            assert.equal(hub.status, expect.status);
            if (expect.code) assert.equal(hub.error.code, expect.code);
            else assert.deepEqual(hub.error, straight.error);
            return;
          }
          assert.equal(hub.status, 200);
          assert.ok(hub.objects.every((o) => o.model === 'gpt'));
          assert.deepEqual(
            hub.objects.map((o) => without(o, 'id', 'model')),
            straight.objects.map((o) => without(o, 'id', 'model')),
          );
          return;
        }
        const target = c.model === 'gpt' ? 'openai' : 'anthropic';
        if (Object.keys(c.upstream).length) await world.script(target, c.upstream);
        const hub = await call(viaHub, c.model, c.request, stream);
        if (c.kind === 'hub_only' || !expect.anthropic) {
          assert.equal(hub.status, expect.status);
          if (expect.error) assert.deepEqual(hub.error, expect.error);
          else assert.equal(hub.error.code, expect.code);
          if (expect.param) assert.equal(hub.error.param, expect.param);
          return;
        }
        assert.equal(hub.status, 200, JSON.stringify(hub.error));
        const sent = (await world.received('anthropic')).at(-1);
        assert.deepEqual(without(sent, 'max_tokens'), expect.anthropic);
        assert.equal(
          hub.headers.get('x-unillm-dropped-params'),
          expect.dropped ? expect.dropped.join(', ') : null,
        );
        await world.script('openai', c.twin);
        const twin = await call(direct, OPENAI_MODEL, c.request, stream);
        if (stream) {
          assert.deepEqual(accumulate(hub.objects), accumulate(twin.objects));
        } else {
          const strip = (o) => without(o, 'id', 'model', 'created');
          assert.deepEqual(hub.objects.map(strip), twin.objects.map(strip));
        }
      });
    }
  }

  for (const [model, wire] of [
    ['gpt', 'openai'],
    ['claude', 'anthropic'],
  ]) {
    it(`runTools: two tool round trips through the hub (${wire})`, async () => {
      await world.advance();
      const loops = agentLoops();
      await world.script(wire, ...loops[wire]);
      const before = (await world.received(wire)).length;
      const implementations = {
        get_weather: ({ city }) => `sunny in ${city}`,
        get_time: () => '12:00',
      };
      const runner = viaHub.chat.completions.runTools({
        model,
        messages: [{ role: 'user', content: loops.question }],
        tools: loops.tools.map((t) => ({
          type: 'function',
          function: {
            name: t.function.name,
            parameters: t.function.parameters,
            parse: JSON.parse,
            function: implementations[t.function.name],
          },
        })),
      });
      assert.equal(await runner.finalContent(), loops.answer);
      const sent = (await world.received(wire)).slice(before);
      assert.equal(sent.length, 3);
      if (wire === 'openai') {
        assert.deepEqual(
          sent[2].messages.map((m) => m.role),
          ['user', 'assistant', 'tool', 'assistant', 'tool'],
        );
      } else {
        const results = sent[2].messages
          .flatMap((m) => m.content)
          .filter((b) => b.type === 'tool_result');
        assert.deepEqual(
          results.map((r) => [r.tool_use_id, r.content]),
          [
            ['toolu_a1', 'sunny in Paris'],
            ['toolu_a2', '12:00'],
          ],
        );
      }
    });
  }
});
