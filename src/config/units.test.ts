import { describe, expect, it } from 'vitest';
import { parseBytes, parseDuration } from './units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['1.5s', 1500],
    ['0s', 0],
    ['', undefined],
    ['15', undefined],
    ['15 s', undefined],
    ['s', undefined],
    ['1y', undefined],
    ['-1s', undefined],
  ])('%j → %j', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('parseBytes', () => {
  it.each([
    ['512', 512],
    ['64MiB', 64 * 1024 ** 2],
    ['10MB', 10_000_000],
    ['1GiB', 1024 ** 3],
    ['2 KiB', 2048],
    ['1B', 1],
    ['64 mebibytes', undefined],
    ['MiB', undefined],
    ['-1', undefined],
  ])('%j → %j', (text, n) => expect(parseBytes(text)).toBe(n));
});
