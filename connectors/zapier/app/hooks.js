'use strict';

// REST hook plumbing both triggers share: subscribe, unsubscribe, list recent items.

const { hubUrl, eventToItem } = require('./lib');

const subscribe = (event) => async (z, bundle) => {
  const response = await z.request({
    url: hubUrl(bundle, '/zapier/hooks'),
    method: 'POST',
    body: { event, target_url: bundle.targetUrl },
  });
  return response.data; // {id, event}: Zapier keeps it as bundle.subscribeData
};

const unsubscribe = async (z, bundle) => {
  const response = await z.request({
    url: hubUrl(bundle, `/zapier/hooks/${encodeURIComponent(bundle.subscribeData.id)}`),
    method: 'DELETE',
    skipThrowForStatus: true,
  });
  // 404: already gone (deleted on the hub, or disabled); nothing left to undo.
  if (response.status !== 204 && response.status !== 404) {
    response.throwForStatus();
  }
  return {};
};

const perform = async (z, bundle) => [eventToItem(bundle.cleanedRequest)];

const list = (event) => async (z, bundle) => {
  const response = await z.request({ url: hubUrl(bundle, `/zapier/triggers/${event}/samples`) });
  return response.data;
};

module.exports = { subscribe, unsubscribe, perform, list };
