'use strict';

// The Zapier app against a real hub on 127.0.0.1: authentication, both REST-hook triggers
// (subscribe, a real delivery into perform, performList, unsubscribe) and the action.

const { before, after, describe, it } = require('node:test');
const assert = require('node:assert/strict');
const zapier = require('zapier-platform-core');
// What `zapier validate` runs on the app definition.
const { compileApp, validateApp } = require('zapier-platform-core/src/tools/schema');

const App = require('../index');
const { startHub, startReceiver } = require('./helpers');

const appTester = zapier.createAppTester(App);

describe('UniLLM Hub Zapier app', () => {
  let hub;
  let receiver;
  const auth = () => ({ base_url: hub.base_url, api_key: hub.api_key });

  before(async () => {
    hub = await startHub();
    receiver = await startReceiver();
  });

  after(async () => {
    if (receiver) await receiver.close();
    if (hub) await hub.stop();
  });

  it('passes the Zapier app schema', () => {
    assert.deepEqual(validateApp(compileApp(App)), []);
  });

  it('authenticates with a team key, and refuses a wrong one', async () => {
    const me = await appTester(App.authentication.test, { authData: auth() });
    assert.equal(me.team, 'zapier-team');
    assert.equal(me.key_name, 'zapier');
    assert.match(me.key_prefix, /^uh-/);
    const label = await appTester(App.authentication.connectionLabel, { inputData: me });
    assert.equal(label, `zapier-team (${me.key_prefix}...)`);
    await assert.rejects(
      appTester(App.authentication.test, { authData: { ...auth(), api_key: 'uh-wrong_key' } }),
      /Invalid API key/,
    );
  });

  it('Ask LLM answers and accounts the request', async () => {
    const answer = await appTester(App.creates.ask_llm.operation.perform, {
      authData: auth(),
      inputData: { prompt: 'Hello from Zapier', max_tokens: 8 },
    });
    assert.match(answer.id, /^chatcmpl-/);
    assert.match(answer.output, /^\[demo provider\]/);
    assert.equal(answer.model, 'demo');
    assert.equal(answer.usage.completion_tokens, 8);
    assert.ok(answer.cost_usd > 0);
    await assert.rejects(
      appTester(App.creates.ask_llm.operation.perform, {
        authData: auth(),
        inputData: { prompt: 'x', model: 'nope' },
      }),
      /Unknown model 'nope'/,
    );
  });

  it('Ask LLM with an idempotency key answers a replayed run from the first', async () => {
    const run = {
      authData: auth(),
      inputData: { prompt: 'Once only', max_tokens: 4, idempotency_key: 'zap-run-1' },
    };
    const first = await appTester(App.creates.ask_llm.operation.perform, run);
    const again = await appTester(App.creates.ask_llm.operation.perform, run);
    assert.deepEqual(again, first);
  });

  it('New Completion: subscribe, receive, perform, performList, unsubscribe', async () => {
    const trigger = App.triggers.new_completion.operation;
    const subscribeData = await appTester(trigger.performSubscribe, {
      authData: auth(),
      targetUrl: receiver.url,
    });
    assert.match(subscribeData.id, /^sub_/);

    const answer = await appTester(App.creates.ask_llm.operation.perform, {
      authData: auth(),
      inputData: { prompt: 'Trigger me', max_tokens: 5 },
    });
    const delivery = await receiver.next();
    assert.equal(delivery.body.type, 'completion.created');
    assert.ok(delivery.headers['webhook-signature'].startsWith('v1,'));

    const [item] = await appTester(trigger.perform, {
      authData: auth(),
      cleanedRequest: delivery.body,
    });
    assert.equal(item.id, answer.id);
    assert.equal(item.prompt, 'Trigger me');
    assert.equal(item.output, answer.output);
    assert.equal(item.connector, 'zapier');

    const listed = await appTester(trigger.performList, { authData: auth() });
    assert.equal(listed[0].id, answer.id); // newest first, same id as the pushed item
    assert.equal(listed[0].prompt, 'Trigger me');
    assert.ok(listed.every((i) => !i.sample));

    const gone = await appTester(trigger.performUnsubscribe, { authData: auth(), subscribeData });
    assert.deepEqual(gone, {});
    // Unsubscribing twice is harmless (Zapier may retry).
    await appTester(trigger.performUnsubscribe, { authData: auth(), subscribeData });
  });

  it('Budget Alert: sample first, then a real crossing pushed and listed', async () => {
    const trigger = App.triggers.budget_alert.operation;
    const tight = { base_url: hub.base_url, api_key: hub.tight_api_key };
    const before = await appTester(trigger.performList, { authData: tight });
    assert.equal(before.length, 1);
    assert.equal(before[0].sample, true);

    const subscribeData = await appTester(trigger.performSubscribe, {
      authData: tight,
      targetUrl: receiver.url,
    });
    // Two answers of 13 + 35 tokens on a 100-token quota: the second crosses 80%.
    for (const prompt of ['one', 'two']) {
      await appTester(App.creates.ask_llm.operation.perform, {
        authData: tight,
        inputData: { prompt, max_tokens: 35 },
      });
    }
    const delivery = await receiver.next();
    assert.equal(delivery.body.type, 'budget.threshold');
    const [item] = await appTester(trigger.perform, {
      authData: tight,
      cleanedRequest: delivery.body,
    });
    assert.equal(item.team, 'tight-team');
    assert.equal(item.metric, 'tokens');
    assert.equal(item.threshold_percent, 80);

    const listed = await appTester(trigger.performList, { authData: tight });
    assert.ok(listed.some((i) => i.id === item.id));
    assert.ok(listed.every((i) => !i.sample));

    await appTester(trigger.performUnsubscribe, { authData: tight, subscribeData });
  });
});
