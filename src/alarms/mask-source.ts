/**
 * Blanks comments and the text of string literals (keeping every newline and column), so a pattern that
 * looks for `ErrorCodes.NAME` never matches inside a comment or a message. Template literal `${…}` parts
 * stay code. Handles //, /* *\/, '…', "…", `…` and Java's """…""" text blocks.
 */
export function maskSource(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  // Stack of open template literals, each with the brace depth of its current `${…}`.
  const templates: number[] = [];
  let braceDepth = 0;
  let i = 0;
  const n = text.length;
  const scanTemplate = (start: number): number => {
    // From just after ` (or after a closing } of ${…}), blank text until ` or ${.
    let j = start;
    while (j < n) {
      const ch = text[j];
      if (ch === '\\') j += 2;
      else if (ch === '`') {
        blank(start, j);
        return j + 1;
      } else if (ch === '$' && text[j + 1] === '{') {
        blank(start, j);
        templates.push(braceDepth);
        braceDepth++;
        return j + 2;
      } else j++;
    }
    blank(start, n);
    return n;
  };
  while (i < n) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      blank(i, stop);
      i = stop;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (ch === '"' && next === '"' && text[i + 2] === '"') {
      const end = text.indexOf('"""', i + 3);
      const stop = end === -1 ? n : end;
      blank(i + 3, stop);
      i = stop + 3;
    } else if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < n && text[j] !== ch && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      blank(i + 1, Math.min(j, n));
      i = j + 1;
    } else if (ch === '`') {
      i = scanTemplate(i + 1);
    } else if (ch === '{') {
      braceDepth++;
      i++;
    } else if (ch === '}') {
      braceDepth--;
      if (templates.length > 0 && templates[templates.length - 1] === braceDepth) {
        templates.pop();
        i = scanTemplate(i + 1);
      } else i++;
    } else i++;
  }
  return out.join('');
}
