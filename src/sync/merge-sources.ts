// The pure half of field ownership (docs/sources.md): what one source contributes to a record (its
// owned fields, projected from its feed row), and the record's source value as the merge of the
// contributions of its sources. No I/O.
import { jsonEqual } from '../json/equal.ts';
import { escapePointerToken, parsePointer } from '../json/pointer.ts';
import { copyObject, getOwn, isJsonObject, type JsonObject, type JsonValue, setOwn } from '../json/types.ts';

/** A source as the merge needs it. `fields` are JSON Pointers; "/" (or "") owns the whole record. */
export type SourceDefinition = {
  name: string;
  fields: string[];
  priority: number;
  ignoreEmpty: boolean;
};

/** A record's contribution from one source: the hash of its feed text and its projected fields. */
export type SourcePart = { h: string | null; v: JsonObject };
export type SourceParts = Record<string, SourcePart>;

/** A field two sources both have, with different values (the collection's overlap setting decides). */
export type SourceOverlap = {
  path: string;
  winner: string;
  winnerValue: JsonValue;
  loser: string;
  loserValue: JsonValue;
};

type OwnedTree = { whole: boolean; children: Map<string, OwnedTree> };

/** The owned pointers as a tree of member names; a node marked whole owns everything under it. */
export function ownedTree(fields: readonly string[]): OwnedTree {
  const root: OwnedTree = { whole: false, children: new Map() };
  for (const field of fields) {
    const tokens = field === '/' || field === '' ? [] : parsePointer(field);
    let node = root;
    for (const token of tokens) {
      let child = node.children.get(token);
      if (!child) {
        child = { whole: false, children: new Map() };
        node.children.set(token, child);
      }
      node = child;
    }
    node.whole = true;
  }
  return root;
}

/**
 * The part of a feed row a source owns: the members under its pointers (the id field always, so every
 * part names its record), and the number of fields it does not own (left out, counted per run as
 * `ignoredFields`). With ignoreEmpty, a `null` or `""` counts as not having the field.
 *
 * @example projectOwned({ id: 'p1', stock: 4, name: 'x' }, ownedTree(['/stock']), 'id', false)
 *   // { part: { id: 'p1', stock: 4 }, ignored: 1 }
 */
export function projectOwned(
  row: JsonObject,
  owned: OwnedTree,
  idField: string,
  ignoreEmpty: boolean,
): { part: JsonObject; ignored: number } {
  let ignored = 0;
  const take = (value: JsonObject, node: OwnedTree, top: boolean): JsonObject => {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const member = getOwn(value, key) as JsonValue;
      if (top && key === idField) {
        setOwn(out, key, member);
        continue;
      }
      const child = node.whole ? node : node.children.get(key);
      if (!child) {
        ignored++;
        continue;
      }
      if (ignoreEmpty && (member === null || member === '')) continue;
      if (child === node || child.whole) setOwn(out, key, ignoreEmpty ? withoutEmpty(member) : member);
      else if (isJsonObject(member)) {
        const inner = take(member, child, false);
        if (Object.keys(inner).length > 0) setOwn(out, key, inner);
      } else ignored++;
    }
    return out;
  };
  return { part: take(row, owned, true), ignored };
}

function withoutEmpty(value: JsonValue): JsonValue {
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const member = getOwn(value, key) as JsonValue;
    if (member !== null && member !== '') setOwn(out, key, withoutEmpty(member));
  }
  return out;
}

/**
 * Sources in merge order: lowest priority first (so the highest is laid last and wins), ties by name.
 */
export function mergeOrder(sources: readonly SourceDefinition[]): SourceDefinition[] {
  return [...sources].sort(
    (a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/**
 * A record's source value from its sources' parts: laid one over the other in merge order, objects
 * merged member by member, anything else (a scalar, an array, null) replacing. So each field comes
 * from the highest-priority source that has it. Parts of sources no longer defined are left out.
 * Also returns where a higher source replaced a different value of a lower one (the overlaps).
 *
 * @example mergeParts({ erp: { h: 'a', v: { id: 1, price: 5 } }, supplier: { h: 'b', v: { id: 1, stock: 4 } } },
 *   [{ name: 'erp', fields: ['/'], priority: 10, ignoreEmpty: false },
 *    { name: 'supplier', fields: ['/stock'], priority: 0, ignoreEmpty: false }])
 *   // { value: { id: 1, stock: 4, price: 5 }, overlaps: [] }
 */
export function mergeParts(
  parts: SourceParts,
  ordered: readonly SourceDefinition[],
): { value: JsonObject; overlaps: SourceOverlap[] } {
  const overlaps: SourceOverlap[] = [];
  let value: JsonObject = {};
  // Who set each replaced leaf, by pointer, to name the loser of an overlap.
  const setBy = new Map<string, string>();
  for (const source of ordered) {
    const part = Object.hasOwn(parts, source.name) ? parts[source.name] : undefined;
    if (!part) continue;
    value = overlay(value, part.v, '', source.name, setBy, overlaps);
  }
  return { value, overlaps };
}

function overlay(
  base: JsonObject,
  top: JsonObject,
  at: string,
  name: string,
  setBy: Map<string, string>,
  overlaps: SourceOverlap[],
): JsonObject {
  const out = copyObject(base);
  for (const key of Object.keys(top)) {
    const path = `${at}/${escapePointerToken(key)}`;
    const next = getOwn(top, key) as JsonValue;
    const before = getOwn(out, key);
    if (before !== undefined && isJsonObject(before) && isJsonObject(next)) {
      setOwn(out, key, overlay(before, next, path, name, setBy, overlaps));
      continue;
    }
    const previousOwner = setBy.get(path);
    if (before !== undefined && previousOwner !== undefined && !jsonEqual(before, next)) {
      overlaps.push({ path, winner: name, winnerValue: next, loser: previousOwner, loserValue: before });
    }
    setOwn(out, key, next);
    markLeaves(next, path, name, setBy);
  }
  return out;
}

function markLeaves(value: JsonValue, path: string, name: string, setBy: Map<string, string>): void {
  setBy.set(path, name);
  if (!isJsonObject(value)) return;
  for (const key of Object.keys(value)) {
    markLeaves(getOwn(value, key) as JsonValue, `${path}/${escapePointerToken(key)}`, name, setBy);
  }
}

/**
 * The parts a stored record has: its `source_parts`, or, for a record written while the collection
 * had one source owning everything, its source value as the part of `default`.
 */
export function storedParts(row: {
  source: JsonObject | null;
  source_hash: string | null;
  source_parts: SourceParts | null;
  upstream_gone: boolean;
}): SourceParts {
  if (row.source_parts) return { ...row.source_parts };
  if (row.source === null || row.upstream_gone) return {};
  return { default: { h: row.source_hash, v: row.source } };
}
