import { describe, expect, it } from 'vitest';
import { commentNear, parseCodeDoc } from './code-doc.js';
import { maskSource } from './mask-source.js';

describe('parseCodeDoc', () => {
  it.each([
    ['', { class: undefined, owner: undefined, runbook: undefined, description: undefined }],
    ['@class client', { class: 'client', owner: undefined, runbook: undefined, description: undefined }],
    [
      'The ledger did not answer. @owner payments @runbook https://r.example/x',
      {
        class: undefined,
        owner: 'payments',
        runbook: 'https://r.example/x',
        description: 'The ledger did not answer.',
      },
    ],
    [
      '@class ignore   retried  later',
      { class: 'ignore', owner: undefined, runbook: undefined, description: 'retried later' },
    ],
  ])('%j', (text, doc) => {
    expect(parseCodeDoc(text)).toEqual(doc);
  });
});

describe('commentNear', () => {
  const text = [
    'export const ErrorCodes = {',
    '  /** Above, Javadoc style. @class client */',
    '  A: 1,',
    '  B: 2, // trailing @owner team-b',
    '  // first line',
    '  // second line',
    '  C: 3,',
    '  D: 4,',
    "  E: 5, /* block */ // 'x' not here",
    '};',
  ].join('\n');
  const masked = maskSource(text);
  it.each([
    [3, 'Above, Javadoc style. @class client'],
    [4, 'trailing @owner team-b'],
    [7, 'first line second line'],
    // The line above D is a definition with code, not a comment: D has none.
    [8, ''],
    [9, "block 'x' not here"],
  ])('line %i → %j', (line, comment) => {
    expect(commentNear(text, masked, line)).toBe(comment);
  });
});
