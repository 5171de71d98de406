import { useEffect, useState } from 'preact/hooks';
import {
  type Condition,
  EMPTY_QUERY,
  LISTS,
  OPERATORS,
  type Operator,
  type RecordQuery,
  STATES,
  type State,
  VALUELESS,
} from '../record-query';
import type { FormEvent } from '../ui';

/**
 * The records page's filters: an id prefix, field conditions (all must hold), the record-state
 * filters, a sort and the columns. Edits stay in the form until Apply, which puts them in the URL.
 */
export function RecordFilters(props: {
  query: RecordQuery;
  idField: string;
  /** Field names to suggest (the columns the page has seen). */
  knownFields: string[];
  onApply: (query: RecordQuery) => void;
}) {
  const [draft, setDraft] = useState<RecordQuery>(props.query);
  // Back/forward or a shared link changes the applied query: the form follows it.
  useEffect(() => setDraft(props.query), [props.query]);
  const set = (change: Partial<RecordQuery>) => setDraft((old) => ({ ...old, ...change }));
  const setCondition = (index: number, change: Partial<Condition>) =>
    set({ conditions: draft.conditions.map((c, i) => (i === index ? { ...c, ...change } : c)) });
  const sortField = draft.sort.replace(/^-/, '');
  const descending = draft.sort.startsWith('-');

  const apply = (event: FormEvent) => {
    event.preventDefault();
    props.onApply({ ...draft, conditions: draft.conditions.filter((c) => c.field.trim() !== '') });
  };
  const toggleState = (state: State) =>
    set({
      states: draft.states.includes(state)
        ? draft.states.filter((s) => s !== state)
        : [...draft.states, state],
    });

  return (
    <form class="filters" onSubmit={apply} aria-label="Filter and sort">
      <datalist id="known-fields">
        {props.knownFields.map((field) => (
          <option key={field} value={field} />
        ))}
      </datalist>
      <div class="filter-line">
        <label for="id-prefix">{props.idField} starts with</label>
        <input id="id-prefix" value={draft.prefix} onInput={(e) => set({ prefix: e.currentTarget.value })} />
      </div>
      <fieldset>
        <legend>Fields (every condition must hold)</legend>
        {draft.conditions.length === 0 && <p class="hint">No field condition.</p>}
        <ol class="conditions">
          {draft.conditions.map((condition, index) => {
            const n = index + 1;
            return (
              <li key={index} class="condition">
                <label for={`where-field-${n}`} class="visually-hidden">
                  Field of condition {n}
                </label>
                <input
                  id={`where-field-${n}`}
                  list="known-fields"
                  placeholder="field, e.g. price or seo.title"
                  value={condition.field}
                  onInput={(e) => setCondition(index, { field: e.currentTarget.value })}
                />
                <label for={`where-op-${n}`} class="visually-hidden">
                  Operator of condition {n}
                </label>
                <select
                  id={`where-op-${n}`}
                  value={condition.op}
                  onChange={(e) => setCondition(index, { op: e.currentTarget.value as Operator })}
                >
                  {(Object.keys(OPERATORS) as Operator[]).map((op) => (
                    <option key={op} value={op}>
                      {OPERATORS[op]}
                    </option>
                  ))}
                </select>
                {!VALUELESS.has(condition.op) && (
                  <>
                    <label for={`where-value-${n}`} class="visually-hidden">
                      Value of condition {n}
                    </label>
                    <input
                      id={`where-value-${n}`}
                      placeholder={LISTS.has(condition.op) ? 'a, b, c' : 'value'}
                      value={condition.value}
                      onInput={(e) => setCondition(index, { value: e.currentTarget.value })}
                    />
                  </>
                )}
                <button
                  type="button"
                  aria-label={`Remove condition ${n}`}
                  onClick={() => set({ conditions: draft.conditions.filter((_, i) => i !== index) })}
                >
                  Remove
                </button>
              </li>
            );
          })}
        </ol>
        <button
          type="button"
          onClick={() => set({ conditions: [...draft.conditions, { field: '', op: '_eq', value: '' }] })}
        >
          Add a condition
        </button>
        <p class="hint">
          Values are read as JSON when they can be: <code>10</code> is a number, <code>"10"</code> the text,{' '}
          <code>true</code>, <code>null</code>; anything else is text.
        </p>
      </fieldset>
      <fieldset>
        <legend>Only records</legend>
        {(Object.keys(STATES) as State[]).map((state) => (
          <label key={state}>
            <input
              type="checkbox"
              checked={draft.states.includes(state)}
              onChange={() => toggleState(state)}
            />{' '}
            {STATES[state]}
          </label>
        ))}
      </fieldset>
      <div class="filter-line">
        <label for="sort-field">Sort by</label>
        <input
          id="sort-field"
          list="known-fields"
          placeholder={`${props.idField} (default)`}
          value={sortField}
          onInput={(e) => set({ sort: (descending ? '-' : '') + e.currentTarget.value.trim() })}
        />
        <label for="sort-direction" class="visually-hidden">
          Sort direction
        </label>
        <select
          id="sort-direction"
          value={descending ? 'desc' : 'asc'}
          onChange={(e) => set({ sort: (e.currentTarget.value === 'desc' ? '-' : '') + sortField })}
        >
          <option value="asc">ascending</option>
          <option value="desc">descending</option>
        </select>
      </div>
      <div class="filter-line">
        <label for="columns">Columns</label>
        <input
          id="columns"
          placeholder="name, price (default: the most common)"
          value={draft.fields}
          onInput={(e) => set({ fields: e.currentTarget.value })}
        />
      </div>
      <div class="row">
        <button type="submit" class="primary">
          Apply filters
        </button>
        <button type="button" onClick={() => props.onApply(EMPTY_QUERY)}>
          Clear
        </button>
      </div>
    </form>
  );
}
