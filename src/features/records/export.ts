import { Readable } from 'node:stream';
import type { RecordService } from './records.service.ts';

/** Records per database round trip while exporting. */
const EXPORT_BATCH = 1000;

export type ExportFormat = 'json' | 'ndjson';

/**
 * Every effective record of a collection as a stream of JSON text, batch by batch in id order. Each
 * batch is its own short transaction, so a slow client never holds a connection (nor, on PGlite, the
 * only one); keyset paging means a record that exists throughout appears exactly once, even while
 * others write. The collection is resolved before the first byte, so a missing one is still a 404.
 */
export async function exportRecords(
  records: RecordService,
  tenantId: string,
  collection: string,
  format: ExportFormat,
): Promise<Readable> {
  const collectionId = await records.collectionId(tenantId, collection);
  async function* chunks(): AsyncGenerator<string> {
    let after: string | null = null;
    let first = true;
    if (format === 'json') yield '[';
    for (;;) {
      const rows = await records.listEffectiveById(tenantId, collectionId, after, EXPORT_BATCH);
      if (rows.length > 0) {
        const texts = rows.map((row) => row.data_text);
        if (format === 'ndjson') yield `${texts.join('\n')}\n`;
        else yield (first ? '\n' : ',\n') + texts.join(',\n');
        first = false;
        after = rows[rows.length - 1]!.record_id;
      }
      if (rows.length < EXPORT_BATCH) break;
    }
    if (format === 'json') yield first ? ']\n' : '\n]\n';
  }
  return Readable.from(chunks(), { objectMode: false });
}
