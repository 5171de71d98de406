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
};

export type FeedBatch = { records: FeedRecord[] };

export type FeedErrorCode =
  | 'invalid_json'
  | 'not_an_object'
  | 'missing_id'
  | 'invalid_id'
  | 'duplicate_id'
  | 'invalid_utf8'
  | 'unsafe_value';

export type FeedError = {
  code: FeedErrorCode;
  message: string;
  row?: number;
  id?: string;
  /** Byte offset in the feed (0-based): where the record starts, or the bad byte for invalid_utf8. */
  offset?: number;
  /** 1-based line number (NDJSON only). */
  line?: number;
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
};
