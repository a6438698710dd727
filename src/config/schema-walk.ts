import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strips optional/default/nullable/pipe wrappers down to the schema that decides the shape. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (
      ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(def.type) &&
      def.innerType
    )
      s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

/** The keys an object schema accepts at `path`, or [] when there is no object there. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = unwrap(schema);
  for (const seg of path) {
    const def: Def = defOf(s);
    if (def.type === 'array' && typeof seg === 'number') s = def.element;
    else if (def.type === 'object' && typeof seg === 'string') s = def.shape?.[seg];
    else return [];
    if (!s) return [];
    s = unwrap(s);
  }
  const def = defOf(s);
  const target = def.type === 'array' && def.element ? defOf(unwrap(def.element)) : def;
  return target.shape ? Object.keys(target.shape) : [];
}

/** Every leaf path (a key whose value is not an object schema), depth first, in declaration order. */
export function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const def = defOf(unwrap(schema));
  if (def.type !== 'object' || !def.shape) return [prefix];
  return Object.entries(def.shape).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}
