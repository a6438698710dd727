import { describe, expect, it } from 'vitest';
import { maskSource } from './mask-source.js';

describe('maskSource', () => {
  it.each([
    ['line comment', 'a // X.y\nb', 'a       \nb'],
    ['block comment keeps newlines', 'a /* X\nY */ b', 'a     \n     b'],
    ['double-quoted', 'f("X.y")', 'f("   ")'],
    ['single-quoted with escape', "f('a\\'b')", "f('    ')"],
    ['template text masked, expression kept', 'f(`a ${X.y} b`)', 'f(`  ${X.y}  `)'],
    ['nested template', 'f(`a ${g(`b ${X.y}`)} c`)', 'f(`  ${g(`  ${X.y}`)}  `)'],
    ['java text block', 'x = """\n X.y\n""";', 'x = """\n    \n""";'],
    ['braces in code still balance after a template', '{ `${a}` } X.y', '{ `${a}` } X.y'],
  ])('%s', (_name, input, expected) => {
    const out = maskSource(input);
    expect(out).toBe(expected);
    expect(out.length).toBe(input.length);
  });
});
