import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import { $ZodType } from 'zod/v4/core';

/**
 * Route schemas are zod (fastify-type-provider-zod): one schema validates the request and
 * documents it at /api/docs. A route file that uses a plain JSON schema still appears in the
 * document, but is neither validated nor serialized by it; a warning at start-up says so.
 */

export const DOCS_PREFIX = '/api/docs';

type SchemaParts = Record<string, unknown> & { response?: Record<string, unknown> };
type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

function isZod(schema: unknown): boolean {
  return schema instanceof $ZodType;
}

/** jsonSchemaTransform for zod parts; plain JSON-schema parts pass through as written. */
function mixedSchemaTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const schema = input.schema as SchemaParts | undefined;
  if (!schema) return jsonSchemaTransform(input);
  const zodParts: SchemaParts = {};
  const plainParts: SchemaParts = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'response' && value && typeof value === 'object') {
      for (const [status, responseSchema] of Object.entries(value)) {
        const target = isZod(responseSchema) ? zodParts : plainParts;
        target.response = { ...target.response, [status]: responseSchema };
      }
    } else if (['body', 'querystring', 'params', 'headers'].includes(key) && !isZod(value)) {
      plainParts[key] = value;
    } else {
      zodParts[key] = value;
    }
  }
  const transformed = jsonSchemaTransform({ ...input, schema: zodParts } as TransformInput);
  const merged = { ...(transformed.schema as SchemaParts), ...plainParts } as SchemaParts;
  if (plainParts.response) merged.response = { ...(transformed.schema as SchemaParts).response, ...plainParts.response };
  return { ...transformed, schema: merged as typeof transformed.schema };
}

const passThroughValidator: FastifySchemaCompiler<unknown> = () => (data) => ({ value: data });
const plainSerializer: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);

export function installSchemaCompilers(app: FastifyInstance): void {
  app.setValidatorCompiler((route) => (isZod(route.schema) ? validatorCompiler(route as Parameters<typeof validatorCompiler>[0]) : passThroughValidator(route)));
  app.setSerializerCompiler((route) => (isZod(route.schema) ? serializerCompiler(route as Parameters<typeof serializerCompiler>[0]) : plainSerializer(route)));
  app.addHook('onRoute', (route) => {
    const schema = route.schema as SchemaParts | undefined;
    if (!schema) return;
    const parts = [schema['body'], schema['querystring'], schema['params'], schema['headers'], ...Object.values(schema.response ?? {})];
    if (parts.some((part) => part !== undefined && !isZod(part))) {
      app.log.warn({ url: route.url, method: route.method }, 'route uses a non-zod schema: documented, but not validated');
    }
  });
}

/** Registers at the root instance (swagger must see every route added after it). */
export function registerOpenApi(app: FastifyInstance, info: { version: string }): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'meterboard',
        description: 'Usage, cost and performance metrics for LLM and document-processing platforms.',
        version: info.version,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer <key>' } },
      },
      tags: [
        { name: 'ingest', description: 'Sending events' },
        { name: 'organizations', description: 'Tenants (admin)' },
        { name: 'keys', description: 'API keys (admin)' },
        { name: 'operations', description: 'Health, readiness, Prometheus' },
      ],
    },
    transform: mixedSchemaTransform,
  });
  void app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
}
