export const insertTenant = (slug: string, name: string) => ({
  text: `INSERT INTO tenants (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING
         RETURNING id, slug, name, created_at`,
  values: [slug, name],
});

export const findTenant = (slugOrId: string) => ({
  text: `SELECT id, slug, name, created_at FROM tenants
          WHERE slug = $1 OR (id::text = $1) LIMIT 1`,
  values: [slugOrId],
});

export const listTenants = (afterSlug: string | null, limit: number) => ({
  text: `SELECT id, slug, name, created_at FROM tenants
          WHERE ($1::text IS NULL OR slug > $1) ORDER BY slug LIMIT $2`,
  values: [afterSlug, limit],
});
