// The full-text query built from an operator's words: tokens as the index has them, each quoted,
// so no input is query syntax.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ftsQuery } from '../../src/eventlog/event.filter.js';

test('words become required tokens, split where the index splits them', () => {
  assert.equal(ftsQuery('brakes'), '"brakes"');
  assert.equal(ftsQuery('  ACME-99   grinding '), '"ACME" "99" "grinding"');
  assert.equal(ftsQuery('customer_name'), '"customer" "name"');
  assert.equal(ftsQuery('Bremsbeläge Škoda 東京'), '"Bremsbeläge" "Škoda" "東京"');
});

test('query syntax is only text; punctuation alone is no query', () => {
  assert.equal(ftsQuery('a OR b NOT c'), '"a" "OR" "b" "NOT" "c"');
  assert.equal(ftsQuery('NEAR(x y) *pre "quoted"'), '"NEAR" "x" "y" "pre" "quoted"');
  assert.equal(ftsQuery('" * ( ) - : ^'), undefined);
  assert.equal(ftsQuery(''), undefined);
});
