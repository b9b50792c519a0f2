'use strict';

const { hubUrl } = require('./lib');

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'base_url',
      label: 'Hub URL',
      required: true,
      type: 'string',
      helpText: 'The public address of your UniLLM Hub, for example `https://llm.example.com`.',
    },
    {
      key: 'api_key',
      label: 'Team API Key',
      required: true,
      type: 'password',
      helpText: 'A team key from `hub key create --team NAME` (starts with `uh-`).',
    },
  ],
  test: async (z, bundle) => {
    const response = await z.request({ url: hubUrl(bundle, '/zapier/me') });
    return response.data;
  },
  connectionLabel: (z, bundle) => `${bundle.inputData.team} (${bundle.inputData.key_prefix}...)`,
};
