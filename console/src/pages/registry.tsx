// Every page of the console, in one list. A feature that lands later adds its page here (a route,
// and a section for the main navigation or a tab in CollectionTabs): see docs/console.md.
//
// Pages other features will add (leave their paths free; docs/console.md says what each needs):
//   /changes                                   the change feed
import type { JSX } from 'preact';
import { CollectionSources } from './collection-sources';
import { Collections } from './collections';
import { Conflicts } from './conflicts';
import { Keys } from './keys';
import { RecordPage } from './record';
import { Records } from './records';
import { SnapshotPage, Snapshots } from './snapshots';
import { Sources } from './sources';
import { Syncs } from './syncs';
import { WebhookPage } from './webhook';
import { Webhooks } from './webhooks';

export interface Route {
  path: string;
  admin?: boolean;
  render: (params: Record<string, string>, query: URLSearchParams) => JSX.Element;
}

export const routes: Route[] = [
  { path: '/', render: () => <Collections /> },
  { path: '/c/:collection', render: (p, q) => <Records collection={p.collection!} search={q.toString()} /> },
  { path: '/c/:collection/records/:id', render: (p) => <RecordPage collection={p.collection!} id={p.id!} /> },
  { path: '/c/:collection/conflicts', render: (p) => <Conflicts collection={p.collection!} /> },
  { path: '/c/:collection/syncs', render: (p) => <Syncs collection={p.collection!} /> },
  { path: '/c/:collection/sources', render: (p) => <CollectionSources collection={p.collection!} /> },
  { path: '/snapshots', render: () => <Snapshots /> },
  { path: '/snapshots/:id', render: (p) => <SnapshotPage id={p.id!} /> },
  { path: '/sources', render: () => <Sources /> },
  { path: '/webhooks', admin: true, render: () => <Webhooks /> },
  { path: '/webhooks/:id', admin: true, render: (p) => <WebhookPage id={p.id!} /> },
  { path: '/keys', admin: true, render: () => <Keys /> },
];

export interface Section {
  path: string;
  label: string;
  admin?: boolean;
  matches: (path: string) => boolean;
}

export const sections: Section[] = [
  { path: '/', label: 'Collections', matches: (p) => p === '/' || p.startsWith('/c/') },
  { path: '/snapshots', label: 'Snapshots', matches: (p) => p.startsWith('/snapshots') },
  { path: '/sources', label: 'Sources', matches: (p) => p.startsWith('/sources') },
  { path: '/webhooks', label: 'Webhooks', admin: true, matches: (p) => p.startsWith('/webhooks') },
  { path: '/keys', label: 'API keys', admin: true, matches: (p) => p.startsWith('/keys') },
];
