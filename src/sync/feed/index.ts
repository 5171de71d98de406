export { detectFormatFromName, sniffFormat } from './format-sniffing.ts';
export { FeedReader, readFeed, readFeedFromFile } from './read-feed.ts';
export type {
  FeedBatch,
  FeedError,
  FeedErrorCode,
  FeedFormat,
  FeedRecord,
  FeedSummary,
  KnownRecords,
  ReadFeedOptions,
} from './types.ts';
