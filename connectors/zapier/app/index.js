'use strict';

const zapier = require('zapier-platform-core');
const { version } = require('./package.json');
const authentication = require('./authentication');
const newCompletion = require('./triggers/new_completion');
const budgetAlert = require('./triggers/budget_alert');
const newInvoice = require('./triggers/new_invoice');
const askLlm = require('./creates/ask_llm');

const addApiKey = (request, z, bundle) => {
  request.headers = request.headers || {};
  request.headers['X-API-Key'] = bundle.authData.api_key;
  return request;
};

// The hub answers errors as {"error": {"message": ...}}: show that sentence to the user.
const explainErrors = (response, z) => {
  if (response.status < 400 || response.skipThrowForStatus) {
    return response;
  }
  let message = `The hub answered HTTP ${response.status}.`;
  try {
    message = JSON.parse(response.content).error.message || message;
  } catch (err) {
    // not JSON: keep the generic sentence
  }
  if (response.status === 401) {
    throw new z.errors.Error(message, 'AuthenticationError', response.status);
  }
  throw new z.errors.Error(message, 'HubError', response.status);
};

module.exports = {
  version,
  platformVersion: zapier.version,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [explainErrors],
  triggers: {
    [newCompletion.key]: newCompletion,
    [budgetAlert.key]: budgetAlert,
    [newInvoice.key]: newInvoice,
  },
  creates: {
    [askLlm.key]: askLlm,
  },
};
