/** Claims on files of the import folder: a lease, taken over only once it has run out. */

/**
 * Takes the claim when nobody holds it or the holder's lease ran out. A takeover of the same file
 * (same stamp) keeps the claim id, so the new holder can see whether the old one's sync committed;
 * a different stamp is a new file under the same name, with a new claim id. No row: someone else
 * holds a live claim.
 */
export const claimFile = (
  folder: string,
  fileName: string,
  stamp: string,
  owner: string,
  leaseMs: number,
) => ({
  text: `INSERT INTO import_claims AS c (folder, file_name, stamp, claim_id, owner, lease_until)
         VALUES ($1, $2, $3, gen_random_uuid(), $4, now() + $5 * interval '1 millisecond')
         ON CONFLICT (folder, file_name) DO UPDATE SET
           owner = EXCLUDED.owner,
           lease_until = EXCLUDED.lease_until,
           claimed_at = now(),
           claim_id = CASE WHEN c.stamp = EXCLUDED.stamp THEN c.claim_id ELSE EXCLUDED.claim_id END,
           attempts = CASE WHEN c.stamp = EXCLUDED.stamp THEN c.attempts + 1 ELSE 1 END,
           stamp = EXCLUDED.stamp
         WHERE c.lease_until < now()
         RETURNING claim_id, attempts`,
  values: [folder, fileName, stamp, owner, leaseMs],
});

/** Extends a live claim; no row means it was lost (the lease ran out and another process took it). */
export const renewClaim = (
  folder: string,
  fileName: string,
  claimId: string,
  owner: string,
  leaseMs: number,
) => ({
  text: `UPDATE import_claims SET lease_until = now() + $5 * interval '1 millisecond'
          WHERE folder = $1 AND file_name = $2 AND claim_id = $3 AND owner = $4
          RETURNING claim_id`,
  values: [folder, fileName, claimId, owner, leaseMs],
});

/** After the file was moved (or found gone): the claim is done with. */
export const releaseClaim = (folder: string, fileName: string, claimId: string, owner: string) => ({
  text: 'DELETE FROM import_claims WHERE folder = $1 AND file_name = $2 AND claim_id = $3 AND owner = $4',
  values: [folder, fileName, claimId, owner],
});

/**
 * The file stays to be tried again: the claim is kept with its lease run out, so whoever claims the
 * file next (any process, at once) gets the same claim id and can see whether a sync of it committed.
 */
export const expireClaim = (folder: string, fileName: string, claimId: string, owner: string) => ({
  text: `UPDATE import_claims SET lease_until = now()
          WHERE folder = $1 AND file_name = $2 AND claim_id = $3 AND owner = $4`,
  values: [folder, fileName, claimId, owner],
});

/**
 * A sync run of this claim that applied the file: it succeeded, or it wrote a change (the process
 * died after the apply committed, before the run row was marked succeeded; the run then reads
 * failed, 'interrupted'). A run that neither succeeded nor wrote anything left the collection as it
 * was, and the file is synced again.
 */
export const findAppliedRunOfClaim = (tenantId: string, claimId: string) => ({
  text: `SELECT r.id, r.status FROM sync_runs r
          WHERE r.tenant_id = $1 AND r.origin->>'kind' = 'auto-import' AND r.origin->>'claim' = $2
            AND (r.status = 'succeeded'
                 OR EXISTS (SELECT 1 FROM changes ch WHERE ch.tenant_id = r.tenant_id AND ch.sync_run_id = r.id))
          ORDER BY r.started_at DESC LIMIT 1`,
  values: [tenantId, claimId],
});

export const findTenantBySlug = (slug: string) => ({
  text: 'SELECT id FROM tenants WHERE slug = $1',
  values: [slug],
});

/** An unknown collection named by a dropped file is created with the default settings. */
export const createCollectionIfMissing = (tenantId: string, name: string) => ({
  text: `INSERT INTO collections (tenant_id, name) VALUES ($1, $2) ON CONFLICT (tenant_id, name) DO NOTHING
         RETURNING id`,
  values: [tenantId, name],
});
