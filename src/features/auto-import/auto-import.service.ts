import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError, type ERROR_CATALOG, isAppError } from '../../errors.ts';
import * as sql from './auto-import.sql.ts';
import type { FeedSync, FeedSyncResult } from './feed-sync.ts';
import {
  type DroppedFile,
  HELD,
  isUnchanged,
  listDroppedFiles,
  moveToFailed,
  moveToProcessed,
  openDroppedFile,
  parseDroppedName,
  stampOf,
} from './import-folder.ts';

export interface FolderImporterOptions {
  importDir: string;
  pollMs: number;
  stableMs: number;
  leaseMs: number;
}

/** Errors after which the file stays where it is and is tried again: nothing is wrong with it. */
const TRANSIENT = new Set(['sync_in_progress', 'service_unavailable']);
const COLLECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * - processed / failed: moved to .processed/ or .failed/;
 * - skipped: another process holds the file, or it is gone;
 * - retry: the file stays and is tried again after a pause, under the same claim;
 * - changed: the file was replaced or written to while it was imported; it stays, and the next scan
 *   sees it as a new file.
 */
export type ImportOutcome = 'processed' | 'failed' | 'skipped' | 'retry' | 'changed';

/**
 * Imports the files of the import folder, found by polling (fs.watch misses events on network
 * filesystems and across renames; a scan of one folder per second costs nothing). Each stable file is claimed through the
 * database, synced as an ordinary full sync, then moved to .processed/ or .failed/. See
 * docs/auto-import.md for the rules.
 */
export class FolderImporter {
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  /** What each file looked like at the previous scan: a file is read only when unchanged since. */
  private readonly seen = new Map<string, string>();
  private readonly retryAt = new Map<string, number>();
  /** Files whose import met invalid JSON once, by path, with their stamp then (see mayBeUnfinished). */
  private readonly unfinished = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly sync: FeedSync,
    private readonly options: FolderImporterOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * One pass over the folder: imports every file that is ready, one after the other. `serve` runs it
   * every `pollMs` (background.ts); an aborted `signal` stops it before the next file.
   */
  async scan(signal?: AbortSignal): Promise<void> {
    const files = await listDroppedFiles(this.options.importDir);
    const now = Date.now();
    const present = new Set<string>();
    for (const file of files) {
      if (signal?.aborted) return;
      present.add(file.path);
      const stamp = stampOf(file);
      const previous = this.seen.get(file.path);
      this.seen.set(file.path, stamp);
      // Stable: unchanged since the last scan, and not written to for stableMs. A changed file is a new
      // file: no retry pause carries over to it.
      if (previous !== stamp) this.retryAt.delete(file.path);
      if (previous !== stamp || now - file.mtimeMs < this.options.stableMs) continue;
      if ((this.retryAt.get(file.path) ?? 0) > now) continue;
      const outcome = await this.importFile(file);
      if (outcome === 'retry')
        this.retryAt.set(file.path, Date.now() + Math.max(5 * this.options.pollMs, 1000));
      else this.retryAt.delete(file.path);
      if (outcome !== 'retry') this.unfinished.delete(file.path);
    }
    for (const path of this.seen.keys()) if (!present.has(path)) this.seen.delete(path);
    for (const path of this.unfinished.keys()) if (!present.has(path)) this.unfinished.delete(path);
  }

  /** Claims, imports and moves one file; another process holding it, or a file gone, is 'skipped'. */
  async importFile(file: DroppedFile): Promise<ImportOutcome> {
    const stamp = stampOf(file);
    const { leaseMs } = this.options;
    const [claim] = await this.db.query<{ claim_id: string; attempts: number }>(
      sql.claimFile(file.folder, file.name, stamp, this.owner, leaseMs),
    );
    if (!claim) return 'skipped';
    const claimId = claim.claim_id;
    const release = () => this.db.query(sql.releaseClaim(file.folder, file.name, claimId, this.owner));
    const expire = () => this.db.query(sql.expireClaim(file.folder, file.name, claimId, this.owner));
    // Another process may have imported and moved the file since we listed it.
    if (!(await isUnchanged(file))) {
      await release();
      return 'skipped';
    }
    const renew = setInterval(
      () => {
        this.db
          .query(sql.renewClaim(file.folder, file.name, claimId, this.owner, leaseMs))
          .then((rows) => {
            if (rows.length === 0)
              this.log.warn({ file: file.path }, 'auto-import: lost the claim on a file');
          })
          .catch((error) => this.log.warn({ err: error }, 'auto-import: could not renew a claim'));
      },
      Math.max(Math.floor(leaseMs / 3), 100),
    );
    const log = this.log.child({ file: `${file.folder}/${file.name}`, claim: claimId });
    let outcome: ImportOutcome = 'retry';
    try {
      outcome = await this.importClaimed(file, claimId, claim.attempts > 1, log);
      return outcome;
    } catch (error) {
      log.error({ err: error }, 'auto-import: unexpected error; the file stays and is tried again');
      return 'retry';
    } finally {
      clearInterval(renew);
      // Released only now, after the move: a process that claims the name next finds no file. A
      // file that stays ('retry': the sync could not run, or it committed but the move failed) keeps
      // its claim id, so the next attempt finds that sync and does not run it again.
      await (outcome === 'retry' ? expire() : release()).catch((error) =>
        log.warn({ err: error }, 'auto-import: could not release a claim'),
      );
    }
  }

  private async importClaimed(
    file: DroppedFile,
    claimId: string,
    takeover: boolean,
    log: FastifyBaseLogger,
  ): Promise<ImportOutcome> {
    const fileLabel = `${file.folder}/${file.name}`;
    if (file.refused !== undefined) {
      // Never opened: a link's target may be another tenant's file or anything on the machine.
      const detail = `${fileLabel} is ${file.refused}: only regular files are imported`;
      return this.fail(file, log, problem('validation_failed', detail), null);
    }
    const [tenant] = await this.db.query<{ id: string }>(sql.findTenantBySlug(file.folder));
    if (!tenant) {
      return this.fail(
        file,
        log,
        problem('tenant_not_found', `No tenant with the slug "${file.folder}"`),
        null,
      );
    }
    const parsed = parseDroppedName(file.name)!;
    if (!COLLECTION_NAME.test(parsed.collection)) {
      const detail = `"${parsed.collection}" is not a collection name (letters, digits, - and _, at most 64)`;
      return this.fail(file, log, problem('validation_failed', detail), null);
    }
    if (takeover) {
      // An earlier attempt whose sync committed but whose file was not moved (the process died, or
      // the move failed): the file is imported already; only the move is left to do.
      const [earlier] = await withTenant(this.db, tenant.id, (tx) =>
        tx.query<{ id: string; status: string }>(sql.findAppliedRunOfClaim(tenant.id, claimId)),
      );
      if (earlier) {
        if (!(await isUnchanged(file))) return changed(log);
        await moveToProcessed(file);
        log.info(
          { syncId: earlier.id, status: earlier.status },
          'auto-import: already imported by an earlier attempt; moved to .processed',
        );
        return 'processed';
      }
    }
    await withTenant(this.db, tenant.id, (tx) =>
      tx.query(sql.createCollectionIfMissing(tenant.id, parsed.collection)),
    );
    log.info({ tenantId: tenant.id, collection: parsed.collection }, 'auto-import: importing');
    let result: FeedSyncResult;
    const handle = await openDroppedFile(file);
    if (handle === undefined) return changed(log);
    const body = handle.createReadStream();
    try {
      result = await this.sync({
        tenantId: tenant.id,
        collection: parsed.collection,
        ...(parsed.source ? { source: parsed.source } : {}),
        body,
        format: parsed.format,
        mode: 'full',
        origin: { kind: 'auto-import', file: fileLabel, claim: claimId },
      });
    } catch (error) {
      if (isAppError(error) && TRANSIENT.has(error.code)) {
        log.info({ code: error.code }, 'auto-import: sync not possible now; the file is tried again');
        return 'retry';
      }
      if (!isAppError(error)) throw error;
      if (this.mayBeUnfinished(file, error.extensions.errors)) return 'retry';
      const syncId = typeof error.extensions.syncId === 'string' ? error.extensions.syncId : null;
      return this.fail(file, log, problemOf(error), syncId);
    } finally {
      body.destroy();
    }
    if (result.status === 'succeeded') {
      if (!(await isUnchanged(file))) return changed(log);
      await moveToProcessed(file);
      log.info({ syncId: result.id, counts: result.counts }, 'auto-import: imported; moved to .processed');
      return 'processed';
    }
    if (this.mayBeUnfinished(file, result.errors)) return 'retry';
    const detail = `The sync run ${result.id} ended ${result.status}`;
    return this.fail(file, log, { ...problem('unprocessable', detail), errors: result.errors }, result.id);
  }

  /**
   * A feed with invalid JSON may be a file still being written after a pause longer than the stable
   * window: the first time, it stays and is tried again after the retry pause; only if it is still the
   * same then does it go to .failed/ (if it grew meanwhile, the next scan sees a new file).
   */
  private mayBeUnfinished(file: DroppedFile, errors: unknown): boolean {
    const invalidJson =
      Array.isArray(errors) &&
      errors.some((error) => (error as { code?: unknown } | null)?.code === 'invalid_json');
    if (!invalidJson || this.unfinished.get(file.path) === stampOf(file)) return false;
    this.unfinished.set(file.path, stampOf(file));
    this.log.info({ file: file.path }, 'auto-import: invalid JSON; the file is given one more scan');
    return true;
  }

  private async fail(
    file: DroppedFile,
    log: FastifyBaseLogger,
    details: Record<string, unknown>,
    syncId: string | null,
  ): Promise<ImportOutcome> {
    if (!(await isUnchanged(file))) return changed(log);
    const report = {
      file: `${file.folder}/${file.name}`,
      tenant: file.folder,
      collection: parseDroppedName(file.name)?.collection ?? null,
      failedAt: new Date().toISOString(),
      syncId,
      ...details,
    };
    if (details.syncStatus === 'held') {
      const target = await moveToFailed(file, report, new Date(), HELD);
      log.warn(
        { code: details.code, syncId, movedTo: target },
        'auto-import: held for approval; moved to .held',
      );
      return 'failed';
    }
    const target = await moveToFailed(file, report);
    log.warn({ code: details.code, syncId, movedTo: target }, 'auto-import: refused; moved to .failed');
    return 'failed';
  }
}

function changed(log: FastifyBaseLogger): ImportOutcome {
  log.info('auto-import: the file was replaced or written to meanwhile; it stays for the next scan');
  return 'changed';
}

function problem(code: keyof typeof ERROR_CATALOG, detail: string): Record<string, unknown> {
  return problemOf(new AppError(code, detail));
}

/** The same members as the API's problem+json, so a report reads like an HTTP error. */
function problemOf(error: AppError): Record<string, unknown> {
  return {
    type: `https://sync-manager.dev/problems/${error.code.replaceAll('_', '-')}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...error.extensions,
  };
}
