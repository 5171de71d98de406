import { Type } from 'typebox';
import { SCOPES } from './api-keys.service.ts';

export const Scope = Type.Union(SCOPES.map((scope) => Type.Literal(scope)));

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  hint: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

/** The only response that ever carries the secret. */
export const ApiKeyCreated = Type.Object({ ...ApiKey.properties, key: Type.String() });

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: 3, uniqueItems: true }),
  },
  { additionalProperties: false, examples: [{ name: 'website build', scopes: ['read'] }] },
);

export const KeyIdParams = Type.Object({ keyId: Type.String({ format: 'uuid' }) });
