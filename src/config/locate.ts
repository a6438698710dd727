import { LineCounter, isMap, isPair, isScalar, parseDocument, type Document } from 'yaml';

/** Maps config paths back to `line:col` in the YAML source, so errors point at the offending text. */
export class YamlLocator {
  private readonly counter = new LineCounter();
  readonly doc: Document;

  constructor(source: string) {
    this.doc = parseDocument(source, { lineCounter: this.counter, prettyErrors: false, uniqueKeys: true });
  }

  /** Position of the value at `path`, or of the key `key` inside it when given. */
  locate(path: readonly PropertyKey[], key?: string): string | undefined {
    let node: unknown = path.length === 0 ? this.doc.contents : this.doc.getIn(path as unknown[], true);
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      node = pair?.key;
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (!range) return undefined;
    const { line, col } = this.counter.linePos(range[0]);
    return `${line}:${col}`;
  }

  linePos(offset: number): { line: number; col: number } {
    return this.counter.linePos(offset);
  }
}
