'use strict';

const { hubUrl } = require('../lib');

module.exports = {
  key: 'ask_llm',
  noun: 'Answer',
  display: {
    label: 'Ask LLM',
    description: "Asks a model through your hub; usage is accounted to your team's budget.",
  },
  operation: {
    inputFields: [
      { key: 'prompt', label: 'Prompt', required: true, type: 'text' },
      { key: 'system', label: 'Instructions (system prompt)', required: false, type: 'text' },
      {
        key: 'model',
        label: 'Model',
        required: false,
        type: 'string',
        helpText: "A model alias of your hub; empty uses the hub's default.",
      },
      { key: 'max_tokens', label: 'Max Tokens', required: false, type: 'integer' },
      {
        key: 'idempotency_key',
        label: 'Idempotency Key',
        required: false,
        type: 'string',
        helpText:
          'Optional: something unique to this run (e.g. the triggering record ID). ' +
          'A replayed run with the same key gets the first answer back and is charged once.',
      },
    ],
    perform: async (z, bundle) => {
      const { prompt, system, model, max_tokens: maxTokens } = bundle.inputData;
      const idempotencyKey = bundle.inputData.idempotency_key;
      const body = { prompt };
      if (system) body.system = system;
      if (model) body.model = model;
      if (maxTokens) body.max_tokens = Number(maxTokens);
      const response = await z.request({
        url: hubUrl(bundle, '/zapier/actions/ask'),
        method: 'POST',
        body,
        headers: idempotencyKey ? { 'Idempotency-Key': String(idempotencyKey) } : {},
      });
      return response.data;
    },
    sample: {
      id: 'chatcmpl-3f2a9c0d1e2b4a5c6d7e8f90',
      output: 'Paris.',
      model: 'default',
      usage: { prompt_tokens: 12, completion_tokens: 2 },
      cost_usd: 0.000004,
      metadata: null,
    },
    outputFields: [
      { key: 'id', label: 'Completion ID' },
      { key: 'output', label: 'Answer' },
      { key: 'model', label: 'Model' },
      { key: 'usage__prompt_tokens', label: 'Prompt Tokens', type: 'integer' },
      { key: 'usage__completion_tokens', label: 'Completion Tokens', type: 'integer' },
      { key: 'cost_usd', label: 'Cost (USD)', type: 'number' },
    ],
  },
};
