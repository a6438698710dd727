import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors/index.js';
import { billingOpenApi } from './openapi.js';
import { usageQuerySchema } from './queries.js';
import { billingRecordSchema } from './record.js';

interface Operation {
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
}

const doc = JSON.parse(JSON.stringify(billingOpenApi())) as Doc;

function refs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => refs(x, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x);
      else refs(x, out);
    }
  }
  return out;
}

describe('billing OpenAPI document', () => {
  it('is OpenAPI 3.1 and survives a JSON round trip unchanged', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc).toEqual(billingOpenApi());
  });

  it.each([
    ['/api/v1/billing/records', 'post'],
    ['/api/v1/billing/usage', 'get'],
    ['/api/v1/billing/tenants/{t}/summary', 'get'],
    ['/api/v1/openapi.json', 'get'],
  ])('describes %s %s', (p, method) => {
    expect(doc.paths[p]?.[method]?.responses['200']).toBeDefined();
  });

  it('documents the NDJSON body with the record schema the parser validates with', () => {
    const body = doc.paths['/api/v1/billing/records']!.post!.requestBody!.content['application/x-ndjson'];
    expect(body?.schema).toEqual({ $ref: '#/components/schemas/BillingRecord' });
    const record = doc.components.schemas.BillingRecord!;
    expect(Object.keys(record.properties!).sort()).toEqual(Object.keys(billingRecordSchema.shape).sort());
    expect(record.required!.sort()).toEqual(Object.keys(billingRecordSchema.shape).sort());
  });

  it('lists every usage query parameter from the validating schema, required only without a default', () => {
    const params = doc.paths['/api/v1/billing/usage']!.get!.parameters!;
    expect(params.map((p) => p.name)).toEqual(Object.keys(usageQuerySchema.shape));
    expect(params.filter((p) => p.required).map((p) => p.name)).toEqual(['tenant', 'from', 'to']);
    expect(params.find((p) => p.name === 'limit')?.schema).toMatchObject({ maximum: 10000, default: 1000 });
    expect(params.find((p) => p.name === 'granularity')?.schema).toMatchObject({
      enum: ['hour', 'day', 'month'],
    });
  });

  it('takes the summary tenant from the path and the month from the query', () => {
    const params = doc.paths['/api/v1/billing/tenants/{t}/summary']!.get!.parameters!;
    expect(params.map((p) => [p.name, p.in, p.required])).toEqual([
      ['t', 'path', true],
      ['month', 'query', false],
    ]);
  });

  it('resolves every $ref to a component', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names).toEqual(
      expect.arrayContaining([
        'BillingRecord',
        'PostResult',
        'UsageRow',
        'UsagePage',
        'TenantSummary',
        'Problem',
      ]),
    );
    for (const r of refs(doc)) expect(names).toContain(r.replace('#/components/schemas/', ''));
    expect(JSON.stringify(doc)).not.toContain('"$id"');
  });

  it('names the billing error codes as they are numbered', () => {
    const text = JSON.stringify(doc);
    for (const name of [
      'BILLING_POST_TOO_LARGE',
      'BILLING_USAGE_QUERY_INVALID',
      'BILLING_CURSOR_INVALID',
      'BILLING_SUMMARY_QUERY_INVALID',
      'BILLING_TENANT_FORBIDDEN',
    ] as const)
      expect(text).toContain(`code ${ErrorCodes[name]}`);
  });
});
