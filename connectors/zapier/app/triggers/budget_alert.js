'use strict';

const hooks = require('../hooks');

module.exports = {
  key: 'budget_alert',
  noun: 'Budget Alert',
  display: {
    label: 'Budget Alert',
    description:
      'Triggers when your team crosses 80% or 100% of its monthly budget or token quota.',
  },
  operation: {
    type: 'hook',
    performSubscribe: hooks.subscribe('budget_alert'),
    performUnsubscribe: hooks.unsubscribe,
    perform: hooks.perform,
    performList: hooks.list('budget_alert'),
    sample: {
      id: 'team-1-month-2026-01-01-cost-80',
      team: 'acme',
      scope: 'team',
      scope_id: 1,
      window: 'month',
      period: '2026-01-01',
      metric: 'cost',
      threshold_percent: 80,
      limit: 50.0,
      used: 40.0,
      resets_at: '2026-02-01T00:00:00+00:00',
      created_at: '2026-01-20T00:00:00+00:00',
    },
    outputFields: [
      { key: 'id', label: 'Alert ID' },
      { key: 'team', label: 'Team' },
      { key: 'metric', label: 'Metric (cost or tokens)' },
      { key: 'threshold_percent', label: 'Threshold (%)', type: 'integer' },
      { key: 'limit', label: 'Limit', type: 'number' },
      { key: 'used', label: 'Used', type: 'number' },
      { key: 'resets_at', label: 'Resets At', type: 'datetime' },
    ],
  },
};
