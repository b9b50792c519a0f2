'use strict';

const hooks = require('../hooks');

module.exports = {
  key: 'new_invoice',
  noun: 'Invoice',
  display: {
    label: 'New Invoice',
    description: "Triggers when the hub issues your team's monthly invoice.",
  },
  operation: {
    type: 'hook',
    performSubscribe: hooks.subscribe('new_invoice'),
    performUnsubscribe: hooks.unsubscribe,
    perform: hooks.perform,
    performList: hooks.list('new_invoice'),
    sample: {
      id: 1,
      number: 'INV-000001',
      team: 'acme',
      period: '2026-01',
      total_usd: 42.5,
      currency: 'usd',
      created_at: '2026-02-01T00:10:00+00:00',
    },
    outputFields: [
      { key: 'id', label: 'Invoice ID', type: 'integer' },
      { key: 'number', label: 'Invoice Number' },
      { key: 'team', label: 'Team' },
      { key: 'period', label: 'Period (YYYY-MM)' },
      { key: 'total_usd', label: 'Total', type: 'number' },
      { key: 'currency', label: 'Currency' },
      { key: 'created_at', label: 'Issued At', type: 'datetime' },
    ],
  },
};
