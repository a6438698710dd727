/** An Alertmanager label matcher: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`. */
export interface Matcher {
  name: string;
  type: '=' | '!=' | '=~' | '!~';
  value: string;
}

export class MatcherSyntaxError extends Error {}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s",}{=!~]*))\s*$/;

/** One matcher, Alertmanager's syntax; the value may be quoted (with \\ escapes) or bare. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new MatcherSyntaxError(`"${text}" is not a matcher like job="api" or alertname=~"Error.*"`);
  const value =
    m[3] !== undefined ? m[3].replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c)) : m[4]!;
  const type = m[2] as Matcher['type'];
  if (type === '=~' || type === '!~') {
    try {
      new RegExp(`^(?:${value})$`);
    } catch (e) {
      throw new MatcherSyntaxError(`"${text}": invalid regular expression (${(e as Error).message})`);
    }
  }
  return { name: m[1]!, type, value };
}

/** `{a="1", b=~"x.*"}` or a comma-separated list without braces. Commas inside quotes are kept. */
export function parseMatchers(text: string): Matcher[] {
  let body = text.trim();
  if (body.startsWith('{')) {
    if (!body.endsWith('}')) throw new MatcherSyntaxError(`"${text}": missing closing }`);
    body = body.slice(1, -1);
  }
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && quoted) {
      cur += c + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new MatcherSyntaxError(`"${text}": unterminated quote`);
  if (cur.trim() !== '') parts.push(cur);
  const matchers = parts.map(parseMatcher);
  if (matchers.length === 0) throw new MatcherSyntaxError(`"${text}": no matchers`);
  return matchers;
}

/** Whether labels satisfy every matcher (a missing label reads as ""), as Alertmanager matches. */
export function matches(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => {
    const v = labels[m.name] ?? '';
    switch (m.type) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return new RegExp(`^(?:${m.value})$`).test(v);
      case '!~':
        return !new RegExp(`^(?:${m.value})$`).test(v);
    }
  });
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`;
}
