import { Type } from 'typebox';

export const SignInBody = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 200, description: 'a tenant API key (smk_…)' }) },
  { additionalProperties: false },
);

export const Session = Type.Object({
  tenant: Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String() }),
  key: Type.Object({
    id: Type.String(),
    name: Type.String(),
    scopes: Type.Array(Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')])),
  }),
  expiresAt: Type.String({ description: 'when the session ends unless the key is revoked first' }),
});

export const CsrfHeader = Type.Object({
  'x-sync-manager-csrf': Type.Optional(
    Type.String({ description: 'must be "1": a cross-site page cannot send it without a CORS preflight' }),
  ),
});
