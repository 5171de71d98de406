// The records page's query (console/src/record-query.ts): what the URL holds and what the API is sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromSearch, parseValue, toApiQuery, toSearch } from '../../console/src/record-query.ts';

test('the URL holds the whole query and reads back the same, a colon in a value included', () => {
  const query = {
    prefix: 'p1',
    conditions: [
      { field: 'price', op: '_gte' as const, value: '7' },
      { field: 'seo.title', op: '_contains' as const, value: 'a: b' },
      { field: 'stock', op: '_null' as const, value: '' },
    ],
    sort: '-price',
    fields: 'name,price',
    states: ['overridden' as const, 'conflicts' as const],
  };
  const search = toSearch(query);
  assert.equal(
    search,
    '?prefix=p1&where=price%3A_gte%3A7&where=seo.title%3A_contains%3Aa%3A+b&where=stock%3A_null%3A' +
      '&sort=-price&fields=name%2Cprice&state=overridden&state=conflicts',
  );
  assert.deepEqual(fromSearch(new URLSearchParams(search)), query);
});

test('unknown operators and states in a hand-made URL are left out, not sent', () => {
  const query = fromSearch(
    new URLSearchParams('where=price:_like:7&where=:_eq:1&state=hidden&where=name:_eq:x'),
  );
  assert.deepEqual(query.conditions, [{ field: 'name', op: '_eq', value: 'x' }]);
  assert.deepEqual(query.states, []);
  assert.equal(toSearch(fromSearch(new URLSearchParams(''))), '');
});

test('values are JSON when they read as JSON, text otherwise', () => {
  assert.equal(parseValue('10'), 10);
  assert.equal(parseValue('"10"'), '10');
  assert.equal(parseValue('true'), true);
  assert.equal(parseValue('null'), null);
  assert.equal(parseValue('Chair'), 'Chair');
  assert.deepEqual(parseValue('[1, "a"]'), [1, 'a']);
});

test('the API gets one filter (conditions ANDed), the sort, the projection and the state filters', () => {
  const api = toApiQuery(
    {
      prefix: 's',
      conditions: [
        { field: 'price', op: '_in', value: '7, 9, x' },
        { field: 'stock', op: '_nnull', value: 'ignored' },
      ],
      sort: 'price',
      fields: 'name, price',
      states: ['overridden', 'conflicts', 'upstreamGone', 'deleted'],
    },
    'sku',
  );
  assert.deepEqual(JSON.parse(api.filter!), {
    _and: [{ sku: { _starts_with: 's' } }, { price: { _in: [7, 9, 'x'] } }, { stock: { _nnull: true } }],
  });
  assert.deepEqual(
    { ...api, filter: undefined },
    {
      filter: undefined,
      sort: 'price',
      fields: 'name,price',
      overridden: true,
      conflicts: 'open',
      upstreamGone: true,
      deleted: true,
    },
  );
  const single = toApiQuery(
    { prefix: '', conditions: [{ field: 'a', op: '_eq', value: '1' }], sort: '', fields: '', states: [] },
    'id',
  );
  assert.deepEqual(single, { filter: '{"a":{"_eq":1}}' });
  assert.deepEqual(toApiQuery(fromSearch(new URLSearchParams()), 'id'), {});
});
