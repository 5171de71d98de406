import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/**
 * Fastify's default Ajv coerces body types ("0.5" becomes 0.5) and silently strips unknown members.
 * We want both refused: bodies are validated strictly, with unknown members an error. Query strings,
 * params and headers are text on the wire, so they are coerced.
 */
export function registerValidation(app: FastifyInstance): void {
  const base: Options = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false };
  const strict = withFormats(new Ajv({ ...base, coerceTypes: false }));
  const coercing = withFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}

function withFormats(ajv: Ajv): Ajv {
  (addFormats as unknown as (ajv: Ajv) => Ajv)(ajv);
  return ajv;
}
