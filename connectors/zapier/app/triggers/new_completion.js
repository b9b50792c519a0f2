'use strict';

const hooks = require('../hooks');

module.exports = {
  key: 'new_completion',
  noun: 'Completion',
  display: {
    label: 'New Completion',
    description: 'Triggers when the hub answers a request from any connector of your team.',
  },
  operation: {
    type: 'hook',
    performSubscribe: hooks.subscribe('new_completion'),
    performUnsubscribe: hooks.unsubscribe,
    perform: hooks.perform,
    performList: hooks.list('new_completion'),
    sample: {
      id: 'chatcmpl-3f2a9c0d1e2b4a5c6d7e8f90',
      team: 'acme',
      connector: 'slack',
      user: 'U024BE7LH',
      model: 'default',
      deployment: 'openai/gpt-4o-mini',
      status: 'ok',
      prompt: 'Summarise this ticket in one sentence.',
      output: 'The customer cannot log in after the password reset.',
      usage: { prompt_tokens: 42, completion_tokens: 12, total_tokens: 54 },
      cost_usd: 0.000014,
      latency_ms: 850,
      created_at: '2026-01-01T00:00:00+00:00',
    },
    outputFields: [
      { key: 'id', label: 'Completion ID' },
      { key: 'connector', label: 'Connector' },
      { key: 'user', label: 'User' },
      { key: 'model', label: 'Model' },
      { key: 'prompt', label: 'Prompt' },
      { key: 'output', label: 'Answer' },
      { key: 'usage__prompt_tokens', label: 'Prompt Tokens', type: 'integer' },
      { key: 'usage__completion_tokens', label: 'Completion Tokens', type: 'integer' },
      { key: 'cost_usd', label: 'Cost (USD)', type: 'number' },
      { key: 'latency_ms', label: 'Latency (ms)', type: 'integer' },
      { key: 'created_at', label: 'Created At', type: 'datetime' },
    ],
  },
};
