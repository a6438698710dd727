import { z } from 'zod';
import { version } from '../version.js';
import {
  CSV_COLUMNS,
  postResultSchema,
  summaryParamsSchema,
  summaryQuerySchema,
  summarySchema,
  usagePageSchema,
  usageQuerySchema,
  usageRowSchema,
} from './queries.js';
import { billingRecordSchema } from './record.js';

type JsonSchema = Record<string, unknown> & { description?: string };

/** Mirrors src/http/problem.ts: what every error answers, as application/problem+json. */
const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.number().int().describe('Overseer error code (src/errors/codes.ts).'),
  hint: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.string()).optional(),
});

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Named schemas with cross-references; `$id`/`$schema` dropped, as OpenAPI components carry neither. */
function components(): Record<string, JsonSchema> {
  const reg = z.registry<{ id: string }>();
  reg.add(billingRecordSchema, { id: 'BillingRecord' });
  reg.add(postResultSchema, { id: 'PostResult' });
  reg.add(usageRowSchema, { id: 'UsageRow' });
  reg.add(usagePageSchema, { id: 'UsagePage' });
  reg.add(summarySchema, { id: 'TenantSummary' });
  reg.add(problemSchema, { id: 'Problem' });
  const out = z.toJSONSchema(reg, { uri: (id) => ref(id).$ref });
  return Object.fromEntries(
    Object.entries(out.schemas).map(([id, { $id: _id, $schema: _s, ...s }]) => [id, s as JsonSchema]),
  );
}

/** OpenAPI parameters from the validating schema itself (input side: defaults make a field optional). */
function parameters(schema: z.ZodType, where: 'query' | 'path'): JsonSchema[] {
  const js = z.toJSONSchema(schema, { io: 'input' }) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(js.properties ?? {}).map(([name, { description, ...s }]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    ...(description === undefined ? {} : { description }),
    schema: s,
  }));
}

const json = (id: string, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(id) } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const authErrors = {
  '401': problem('No token, or a token that is unknown or revoked.'),
  '403': problem('The token may not do this (another tenant: code 101205).'),
};

/** The OpenAPI 3.1 document of the billing API, built from the zod schemas the routes validate with. */
export function billingOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Overseer billing API',
      version: version(),
      description: 'Usage records in, hourly usage per tenant and space out. All times are UTC.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: components(),
    },
    paths: {
      '/api/v1/billing/records': {
        post: {
          operationId: 'postBillingRecords',
          summary: 'Ingest usage records (operator or admin)',
          description:
            'NDJSON: one BillingRecord per line. Bad lines are rejected with their reason (and quarantined) ' +
            'without stopping the rest; (host, id) seen before counts as a duplicate; the same body again is a replay.',
          requestBody: {
            required: true,
            content: { 'application/x-ndjson': { schema: ref('BillingRecord') } },
          },
          responses: {
            '200': json('PostResult', 'What was counted.'),
            ...authErrors,
            '413': problem(
              'The body is larger than billing.maxPostBytes (code 101201); nothing was ingested.',
            ),
          },
        },
      },
      '/api/v1/billing/usage': {
        get: {
          operationId: 'getBillingUsage',
          summary: 'Usage rows of a tenant (viewer or stronger, or the tenant itself)',
          description:
            'Rows in (hour, space) order with keyset pagination (nextCursor). With Accept: text/csv or ' +
            'format=csv, every row of the range (after cursor, if given) streamed as CSV; limit does not apply.',
          parameters: parameters(usageQuerySchema, 'query'),
          responses: {
            '200': {
              description: 'A page of rows (JSON), or every row of the range (CSV).',
              content: {
                'application/json': { schema: ref('UsagePage') },
                'text/csv': { schema: { type: 'string', description: `Header: ${CSV_COLUMNS.join(',')}` } },
              },
            },
            '400': problem('A bad query (code 101202) or cursor (code 101203).'),
            ...authErrors,
          },
        },
      },
      '/api/v1/billing/tenants/{t}/summary': {
        get: {
          operationId: 'getBillingSummary',
          summary: "A tenant's month: totals overall and per space",
          parameters: [
            ...parameters(summaryParamsSchema, 'path'),
            ...parameters(summaryQuerySchema, 'query'),
          ],
          responses: {
            '200': json('TenantSummary', 'The month.'),
            '400': problem('A bad tenant or month (code 101204).'),
            ...authErrors,
          },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document (any valid token)',
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
        },
      },
    },
  };
}
