/** What a comment next to a code definition says about it. */
export interface CodeDoc {
  class: string | undefined;
  owner: string | undefined;
  runbook: string | undefined;
  /** The comment's prose, without tags. */
  description: string | undefined;
}

const TAG = /@(class|owner|runbook)\s+(\S+)/g;

/** Parses `@class client @owner billing @runbook https://… Free text.` from comment text. */
export function parseCodeDoc(comment: string): CodeDoc {
  const tags: Record<string, string> = {};
  for (const m of comment.matchAll(TAG)) tags[m[1]!] = m[2]!;
  const description = comment.replace(TAG, ' ').replace(/\s+/g, ' ').trim();
  return {
    class: tags.class,
    owner: tags.owner,
    runbook: tags.runbook,
    description: description === '' ? undefined : description,
  };
}

/** Text of a line's comment parts: `// x`, `/* x *\/`, ` * x` (Javadoc body) with the markers removed. */
function stripMarkers(line: string): string {
  return line
    .replace(/^\s*\/\*\*?/, '')
    .replace(/\*\/\s*$/, '')
    .replace(/^\s*\/\/+/, '')
    .replace(/^\s*\*(?!\/)/, '')
    .trim();
}

function isCommentLine(line: string): boolean {
  const t = line.trim();
  return t.startsWith('//') || t.startsWith('/*') || t.startsWith('*') || t.endsWith('*/');
}

/**
 * The comment documenting the definition on 1-based `line`: the comment lines right above it (a `//` run
 * or a `/** … *\/` block) and a trailing comment on the line itself. `masked` is the same text with
 * comments blanked, which tells code from comment on the definition line.
 */
export function commentNear(text: string, masked: string, line: number): string {
  const lines = text.split('\n');
  const maskedLines = masked.split('\n');
  const parts: string[] = [];
  for (let l = line - 2; l >= 0 && isCommentLine(lines[l]!); l--) {
    // An annotation line like `@Deprecated` or a blank ends the block above.
    parts.unshift(stripMarkers(lines[l]!));
  }
  const raw = lines[line - 1] ?? '';
  const code = maskedLines[line - 1] ?? '';
  // The earliest comment marker that the masked text blanked (so not one inside a string) starts it.
  let start = -1;
  for (const marker of ['//', '/*']) {
    let at = raw.indexOf(marker);
    while (at >= 0 && code.slice(at, at + 2) === marker) at = raw.indexOf(marker, at + 2);
    if (at >= 0 && (start < 0 || at < start)) start = at;
  }
  if (start >= 0)
    parts.push(
      raw
        .slice(start)
        .replace(/\/\*+|\*\/|\/\/+/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    );
  return parts.filter((p) => p !== '').join(' ');
}
