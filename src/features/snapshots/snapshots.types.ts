/** A snapshot as the API shows it. */
export interface Snapshot {
  id: string;
  label: string | null;
  auto: boolean;
  pinned: boolean;
  createdAt: string;
  expiresAt: string | null;
  changeId: string;
}

/** A snapshots row as the database returns it. */
export interface SnapshotRow {
  id: string;
  change_id: string;
  label: string | null;
  auto: boolean;
  pinned: boolean;
  created_at: Date;
  expires_at: Date | null;
}
