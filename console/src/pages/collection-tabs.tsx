import { segment } from '../router';
import { Link } from '../ui';

/** The tabs of one collection. A feature with a per-collection page adds its tab here. */
const tabs = [
  { suffix: '', label: 'Records' },
  { suffix: '/conflicts', label: 'Conflicts' },
  { suffix: '/syncs', label: 'Syncs' },
  { suffix: '/sources', label: 'Sources' },
];

export function CollectionTabs(props: { collection: string; current: string }) {
  const base = `/c/${segment(props.collection)}`;
  return (
    <nav class="tabs" aria-label={`Collection ${props.collection}`}>
      <Link to="/">All collections</Link>
      {tabs.map((tab) => (
        <Link key={tab.suffix} to={base + tab.suffix} current={tab.suffix === props.current}>
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}
