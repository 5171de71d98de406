/** How a feed is framed. 'json': an array of objects, or an object whose `records` member is that array. */
export type FeedFormat = 'json' | 'ndjson';

/** One record of a feed, ready for the planner. The parsed value is not kept: re-parse `text` when needed. */
export type FeedRecord = {
  /** 1-based position in the feed (array element or non-blank NDJSON line), counting bad rows too. */
  row: number;
  /** The `idField` member: a string, or a safe integer kept as its decimal string. */
  id: string;
  /** The record's raw JSON text, byte for byte as in the feed, without surrounding whitespace. */
  text: string;
  /**
   * `crypto.hash('sha1', text, 'base64')`. The text is not canonicalised (that halves throughput), so a
   * key-order or whitespace change upstream counts as a change.
   */
  hash: string;
  /**
   * Set when `known` (ReadFeedOptions) recognised the row: 'unchanged' — its text hashes to a stored
   * record's source text, so it was neither parsed nor decoded (`text` and `id` are ''); 'stored' — parsed, its
   * id is a stored record's. Unset: a new id, or no `known` was given.
   */
  known?: 'unchanged' | 'stored';
  /** Set on a parsed row that is a tombstone (`"_deleted": true`, see isTombstone in merge.ts). */
  tombstone?: true;
};

/**
 * What a collection already holds, as the feed reader asks it before parsing a row. A row whose raw
 * text hashes to the source text of a stored record is that record, unchanged: the same bytes were
 * validated and parsed when they were stored, and the same text under the same id field gives the same
 * id (a collection's id field cannot change while it holds records). So such a row is not parsed again.
 */
export interface KnownRecords {
  /**
   * Whether a stored record's source text has this hash (`crypto.hash('sha1', text, 'base64')`):
   * 'matched' (that record is marked seen), 'duplicate' (it was seen before in this feed), or null.
   */
  matchText(hash: string): 'matched' | 'duplicate' | null;
  /** A parsed row's id: 'stored' (marked seen now), 'duplicate' (seen before), 'unknown' (a new id). */
  claimId(id: string): 'stored' | 'duplicate' | 'unknown';
}

export type FeedBatch = { records: FeedRecord[] };

export type FeedErrorCode =
  | 'invalid_json'
  | 'not_an_object'
  | 'missing_id'
  | 'invalid_id'
  | 'duplicate_id'
  | 'invalid_utf8'
  | 'unsafe_value'
  | 'record_too_large'
  | 'schema_invalid';

export type FeedError = {
  code: FeedErrorCode;
  message: string;
  row?: number;
  id?: string;
  /** Byte offset in the feed (0-based): where the record starts, or the bad byte for invalid_utf8. */
  offset?: number;
  /** 1-based line number (NDJSON only). */
  line?: number;
  /** Where in the record a schema_invalid error is (a JSON Pointer). */
  pointer?: string;
};

/** What the reader saw, returned when the generator finishes. A feed with `errorCount > 0` must be refused. */
export type FeedSummary = {
  /** Rows seen, good and bad. */
  rows: number;
  /** The first `maxErrors` errors, in feed order. */
  errors: FeedError[];
  /** Every error, including those past the cap. */
  errorCount: number;
  /** The format that was read (the sniffed one when the option was 'auto'). */
  format: FeedFormat;
  /** With `skipInvalid`: the schema failures of the rows left out (capped as errors are), and their count. */
  skipped?: FeedError[];
  skippedCount?: number;
};

export type ReadFeedOptions = {
  format: FeedFormat | 'auto';
  /** Member holding the record id, e.g. 'id'. */
  idField: string;
  /** Records per batch; default 5000. */
  batchSize?: number;
  /** Errors kept in the summary; default 100. Counting goes on past the cap. */
  maxErrors?: number;
  /**
   * Detect ids repeated within the feed; default true. Costs about 12 bytes per row at the peak (see
   * id-index.ts). Turn off only when a unique index downstream reports duplicates instead.
   */
  checkDuplicates?: boolean;
  /**
   * The stored records: rows matching one are routed without a parse, and duplicates of stored ids are
   * found by it (the duplicate index then holds only the new ids).
   */
  known?: KnownRecords;
  /**
   * The collection's schema (src/features/collections/record-schema.ts): a parsed row it refuses is a
   * `schema_invalid` error per failure, or, with `skipInvalid`, left out and listed in `skipped`.
   * Tombstones and rows matched as unchanged are not checked.
   */
  validate?: (value: unknown) => Array<{ pointer: string; message: string }> | null;
  skipInvalid?: boolean;
};
