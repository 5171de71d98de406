import { Type } from 'typebox';
import { Name } from '../../http/schemas.ts';
import { ApiKeyCreated } from '../api-keys/api-keys.schemas.ts';

export const Tenant = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
});

export const CreateTenantBody = Type.Object(
  { slug: Name, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false, examples: [{ slug: 'acme', name: 'Acme shop' }] },
);

export const TenantCreated = Type.Object({ tenant: Tenant, apiKey: ApiKeyCreated });
