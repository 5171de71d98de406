// What a person can do with one run of the history: approve or reject a held run, revert an applied
// one after its dry run (docs/run-safety.md).
import { useState } from 'preact/hooks';
import { api, ok, type RevertResult, type SyncRun } from '../api';
import { segment } from '../router';
import { ConfirmDialog, ErrorMessage, formatTime, Link, readOnlyTitle, useSession } from '../ui';
import { Counts, PlanIds } from './syncs';

/** A run that applied something, and so can be reverted (a held, dry, failed or no-op run cannot). */
export function canRevert(run: SyncRun): boolean {
  return run.status === 'succeeded' && !run.dryRun && run.changeId !== null;
}

/** A held run: why it was held, what it would do, until when; Approve or Reject after a confirmation. */
export function HeldRun(props: { run: SyncRun; onDone: (message: string) => void }) {
  const { run } = props;
  const { canWrite } = useSession();
  const [asking, setAsking] = useState<'approve' | 'reject'>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const short = run.id.slice(0, 8);

  const decide = async (action: 'approve' | 'reject') => {
    setBusy(true);
    setError(undefined);
    try {
      const path = action === 'approve' ? '/v1/syncs/{syncId}/approve' : '/v1/syncs/{syncId}/reject';
      const { data } = await ok(api.POST(path, { params: { path: { syncId: run.id } } }));
      setAsking(undefined);
      props.onDone(
        action === 'approve'
          ? `Run ${short} approved and applied (${describe(data)}).`
          : `Run ${short} rejected: nothing of it was applied.`,
      );
    } catch (problem) {
      setAsking(undefined);
      setError(problem);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="held" aria-label={`Held run ${short}`}>
      <h3>
        Held run {short}, started {formatTime(run.startedAt)}
      </h3>
      <p>
        <strong>Nothing was applied.</strong> It waits for a person until {formatTime(run.heldUntil)}, then
        expires.
      </p>
      <h4 class="small-title">Why it was held</h4>
      <ul class="reasons">
        {run.errors.length === 0 && <li>No reason recorded.</li>}
        {run.errors.slice(0, 20).map((reason, i) => (
          <li key={i}>{reasonText(reason)}</li>
        ))}
      </ul>
      <h4 class="small-title">What it would do</h4>
      <p>
        <Counts counts={run.counts} />
      </p>
      {run.plan && (
        <dl class="facts">
          <PlanIds label="Created" ids={run.plan.create} collection={run.collection} />
          <PlanIds label="Updated" ids={run.plan.update} collection={run.collection} />
          <PlanIds label="Deleted" ids={run.plan.delete} collection={run.collection} />
        </dl>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      <div class="row">
        <button
          type="button"
          class="primary"
          disabled={!canWrite || busy}
          title={readOnlyTitle(canWrite)}
          aria-label={`Approve held run ${short}…`}
          onClick={() => setAsking('approve')}
        >
          Approve…
        </button>
        <button
          type="button"
          disabled={!canWrite || busy}
          title={readOnlyTitle(canWrite)}
          aria-label={`Reject held run ${short}…`}
          onClick={() => setAsking('reject')}
        >
          Reject…
        </button>
      </div>
      <ConfirmDialog
        open={asking !== undefined}
        title={asking === 'approve' ? 'Apply this held run?' : 'Reject this held run?'}
        confirmLabel={asking === 'approve' ? 'Approve and apply' : 'Reject'}
        busy={busy}
        onConfirm={() => asking && decide(asking)}
        onCancel={() => setAsking(undefined)}
      >
        {asking === 'approve' ? (
          <p>
            The run is applied exactly as planned: <Counts counts={run.counts} />. If any record of{' '}
            {run.collection} was written since it was planned, nothing is applied and you will be asked to
            sync again.
          </p>
        ) : (
          <p>The run and what it staged are discarded; {run.collection} stays as it is.</p>
        )}
      </ConfirmDialog>
    </section>
  );
}

/** "Revert…": a dry run first, shown in the confirmation with the fields that stay; then the revert. */
export function RevertRun(props: { run: SyncRun; onDone: (message: string) => void }) {
  const { run } = props;
  const { canWrite } = useSession();
  const [preview, setPreview] = useState<RevertResult>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const short = run.id.slice(0, 8);

  const call = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const { data } = await ok(
        api.POST('/v1/syncs/{syncId}/revert', {
          params: { path: { syncId: run.id }, query: { dryRun } },
        }),
      );
      if (dryRun) setPreview(data);
      else {
        setPreview(undefined);
        props.onDone(`Run ${short} reverted: ${revertSummary(data)}.`);
      }
    } catch (problem) {
      setPreview(undefined);
      setError(problem);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button
        type="button"
        disabled={!canWrite || busy}
        title={readOnlyTitle(canWrite)}
        aria-label={`Revert run ${short}…`}
        onClick={() => call(true)}
      >
        {busy && !preview ? 'Checking…' : 'Revert…'}
      </button>
      {error !== undefined && <ErrorMessage error={error} />}
      <ConfirmDialog
        open={preview !== undefined}
        title={`Revert run ${short}?`}
        confirmLabel="Revert this run"
        busy={busy}
        onConfirm={() => call(false)}
        onCancel={() => setPreview(undefined)}
      >
        {preview && <RevertPlan result={preview} collection={run.collection} />}
      </ConfirmDialog>
    </>
  );
}

function RevertPlan(props: { result: RevertResult; collection: string }) {
  const { result } = props;
  const kept = result.kept.slice(0, 50);
  return (
    <div class="revert-plan">
      <p>
        A dry run says: {revertSummary(result)}. A snapshot is taken first; the revert is itself a run that
        can be reverted.
      </p>
      {result.counts.keptFields === 0 ? (
        <p>No later change rewrote what this run wrote: every field goes back.</p>
      ) : (
        <>
          <p>
            These {result.counts.keptFields} field(s) of {result.counts.keptRecords} record(s) stay as they
            are, because a later change rewrote them:
          </p>
          <ul class="kept">
            {kept.map((item) => (
              <li key={`${item.recordId} ${item.path}`}>
                <Link to={`/c/${segment(props.collection)}/records/${segment(item.recordId)}`}>
                  {item.recordId}
                </Link>{' '}
                <code>{item.path === '' ? '(the whole record)' : item.path}</code>: {keptByText(item.keptBy)}
              </li>
            ))}
          </ul>
          {(result.keptTruncated || result.kept.length > kept.length) && <p class="hint">…and more.</p>}
        </>
      )}
    </div>
  );
}

type KeptBy = RevertResult['kept'][number]['keptBy'];

function keptByText(by: KeptBy): string {
  const when = by.at ? ` (${formatTime(by.at)})` : '';
  switch (by.kind) {
    case 'manual':
      return `edited by hand${by.apiKeyId ? ` with key ${by.apiKeyId.slice(0, 8)}` : ''}${when}`;
    case 'sync':
      return `set by a later sync${by.syncRunId ? ` (run ${by.syncRunId.slice(0, 8)})` : ''}${when}`;
    case 'restore':
      return `set by a restore${by.snapshotId ? ` of snapshot ${by.snapshotId.slice(0, 8)}` : ''}${when}`;
    case 'revert':
      return `set by a later revert${by.syncRunId ? ` (run ${by.syncRunId.slice(0, 8)})` : ''}${when}`;
    default:
      return `changed later${when}`;
  }
}

function revertSummary(result: RevertResult): string {
  const c = result.counts;
  const parts = [`${c.reverted} of the ${c.records} record(s) it wrote change back`];
  if (c.revived) parts.push(`${c.revived} brought back`);
  if (c.deleted) parts.push(`${c.deleted} deleted`);
  if (c.keptFields) parts.push(`${c.keptFields} field(s) kept`);
  return parts.join(', ');
}

function describe(run: SyncRun): string {
  const counts = run.counts as Record<string, number | undefined>;
  const parts = ['created', 'updated', 'deleted']
    .filter((key) => counts[key])
    .map((key) => `${counts[key]} ${key}`);
  return parts.join(', ') || 'no change';
}

/** A guard's reason as the server wrote it (a string, or an object with a message). */
export function reasonText(reason: unknown): string {
  if (typeof reason === 'string') return reason;
  if (reason && typeof reason === 'object') {
    const item = reason as Record<string, unknown>;
    if (typeof item.message === 'string') return item.message;
    if (typeof item.detail === 'string') return item.detail;
  }
  return JSON.stringify(reason);
}
