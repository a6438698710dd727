import { describe, expect, it } from 'vitest';
import { matches, MatcherSyntaxError, parseMatchers } from './matchers.js';

describe('Alertmanager matchers', () => {
  it.each([
    [
      '{alertname="ErrorCode1", job=~"bil.*"}',
      [
        { name: 'alertname', type: '=', value: 'ErrorCode1' },
        { name: 'job', type: '=~', value: 'bil.*' },
      ],
    ],
    [
      'job!=api,severity!~"page|ticket"',
      [
        { name: 'job', type: '!=', value: 'api' },
        { name: 'severity', type: '!~', value: 'page|ticket' },
      ],
    ],
    ['{note="a, \\"b\\""}', [{ name: 'note', type: '=', value: 'a, "b"' }]],
  ])('parses %s', (text, expected) => {
    expect(parseMatchers(text)).toEqual(expected);
  });

  it.each(['', '{}', 'job', 'job=="x"', 'job==x', '{job="x"', 'job="x', '1job="x"', 'job=~"(("'])(
    'refuses %j',
    (text) => {
      expect(() => parseMatchers(text)).toThrow(MatcherSyntaxError);
    },
  );

  it.each<[string, Record<string, string>, boolean]>([
    ['job="api"', { job: 'api' }, true],
    ['job="api"', { job: 'apix' }, false],
    ['job=~"ap.*"', { job: 'apix' }, true],
    ['job=~"ap"', { job: 'apix' }, false],
    ['job!~"ap.*"', { job: 'web' }, true],
    ['team=""', { job: 'web' }, true],
    ['team!=""', { job: 'web' }, false],
    ['job="api",code="1"', { job: 'api', code: '2' }, false],
  ])('%s on %j → %s', (text, labels, ok) => {
    expect(matches(parseMatchers(text), labels)).toBe(ok);
  });
});
