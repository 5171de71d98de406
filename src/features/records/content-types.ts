import { AppError } from '../../errors.ts';
import type { Edit } from './edits/apply-edit.ts';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
/** The media types PATCH accepts beyond application/json (which app.ts parses for every route). */
export const PATCH_MEDIA_TYPES = [MERGE_PATCH, JSON_PATCH] as const;

/** PATCH by media type: RFC 7396 (plain JSON is read as a merge patch too) or RFC 6902. */
export function patchEdit(mediaType: string, body: unknown): Edit {
  if (mediaType === MERGE_PATCH || mediaType === 'application/json')
    return { kind: 'merge-patch', patch: body };
  if (mediaType === JSON_PATCH) return { kind: 'json-patch', patch: body };
  throw unsupported(mediaType, `${MERGE_PATCH}, application/json or ${JSON_PATCH}`);
}

/** PUT takes a whole record as application/json only. */
export function putEdit(mediaType: string, body: unknown): Edit {
  if (mediaType !== 'application/json') throw unsupported(mediaType, 'application/json');
  return { kind: 'put', body };
}

function unsupported(mediaType: string, accepted: string): AppError {
  const sent = mediaType === '' ? 'no content type' : JSON.stringify(mediaType);
  return new AppError('unsupported_media_type', `Got ${sent}; this method accepts ${accepted}`);
}
