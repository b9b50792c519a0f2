'use strict';

// Shared by the triggers and the action: the hub's address and its JSON items.

const hubUrl = (bundle, path) => `${String(bundle.authData.base_url).replace(/\/+$/, '')}${path}`;

// A hub event (as POSTed to a REST hook) to the item Zapier shows; the same shape and id as
// the items of GET /zapier/triggers/<event>/samples.
const budgetItemId = (data) =>
  ['scope', 'scope_id', 'window', 'period', 'metric', 'threshold_percent']
    .map((k) => String(data[k]))
    .join('-');

const eventToItem = (envelope) => {
  const data = { ...(envelope.data || {}) };
  if (envelope.type === 'budget.threshold') {
    data.id = budgetItemId(data);
  }
  data.created_at = envelope.timestamp;
  return data;
};

module.exports = { hubUrl, eventToItem, budgetItemId };
