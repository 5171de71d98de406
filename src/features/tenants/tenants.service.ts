import type { Database } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import type { ApiKeyService, ApiKeyView } from '../api-keys/api-keys.service.ts';
import * as sql from './tenants.sql.ts';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
}

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
}

/** Tenants are platform-level: these queries run as the platform, outside any tenant scope. */
export class TenantService {
  constructor(
    private readonly db: Database,
    private readonly keys: ApiKeyService,
  ) {}

  /** Creates the tenant and its first admin key in one transaction: both or neither. */
  async create(input: {
    slug: string;
    name?: string;
  }): Promise<{ tenant: Tenant; apiKey: ApiKeyView & { key: string } }> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<TenantRow>(sql.insertTenant(input.slug, input.name ?? input.slug));
      if (!row) throw new AppError('tenant_exists', `A tenant "${input.slug}" already exists`);
      const apiKey = await this.keys.create(
        row.id,
        { name: 'first admin key', scopes: ['read', 'write', 'admin'] },
        tx,
      );
      return { tenant: toTenant(row), apiKey };
    });
  }

  async find(slugOrId: string): Promise<Tenant | undefined> {
    const [row] = await this.db.query<TenantRow>(sql.findTenant(slugOrId));
    return row ? toTenant(row) : undefined;
  }

  async list(afterSlug: string | null, limit: number): Promise<Tenant[]> {
    const rows = await this.db.query<TenantRow>(sql.listTenants(afterSlug, limit));
    return rows.map(toTenant);
  }
}

function toTenant(row: TenantRow): Tenant {
  return { id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at.toISOString() };
}
