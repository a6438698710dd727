/**
 * Sum of every sample of `name` whose labels include all of `labels`, or undefined when there is none.
 * Enough for reading a few counters of a service's own /metrics; not a general parser.
 */
export function sumSamples(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const close = line.lastIndexOf('}');
    const labelText = line[name.length] === '{' ? line.slice(name.length + 1, close) : '';
    if (!wanted.every((pair) => labelText.split(',').includes(pair))) continue;
    const value = Number(
      line
        .slice(close + 1 > 0 ? close + 1 : name.length)
        .trim()
        .split(' ')[0],
    );
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}
