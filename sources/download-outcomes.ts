/** What the downloader records per URL (activities keep these as their resume records), and why a URL failed. */
import { z } from 'zod';
import { IMAGE_REJECTIONS } from './image-check';
import { SAFE_FETCH_REASONS } from './safe-fetch-errors';
import type { ImageFormat } from './sniff';

export const DOWNLOAD_FAILURE_REASONS = [
  ...SAFE_FETCH_REASONS,
  ...IMAGE_REJECTIONS,
  'blocked-path', // a file: URL outside localRoots (or localRoots not given)
  'file-unreadable', // a file: URL that does not exist or is not a regular file
] as const;
export type DownloadFailureReason = (typeof DOWNLOAD_FAILURE_REASONS)[number];

const FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'heif', 'tiff'] as const satisfies readonly ImageFormat[];

/** One URL's result: serialisable, so an activity can keep them as its resume record (see `known`). */
export const UrlOutcomeSchema = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('downloaded'),
    url: z.string(),
    key: z.string(),
    sha256: z.string(),
    bytes: z.number(),
    width: z.number(),
    height: z.number(),
    format: z.enum(FORMATS),
    /** The same bytes were already in the store (earlier run, other batch): nothing was written. */
    alreadyStored: z.boolean(),
  }),
  z.object({
    outcome: z.literal('duplicate'),
    url: z.string(),
    key: z.string(),
    sha256: z.string(),
    /** The URL whose identical bytes were kept. */
    duplicateOf: z.string(),
  }),
  z.object({
    outcome: z.literal('failed'),
    url: z.string(),
    reason: z.enum(DOWNLOAD_FAILURE_REASONS),
    detail: z.string(),
    attempts: z.number(),
    /** Transient (timeout, 5xx, dropped connection): a later run tries it again. */
    retryable: z.boolean(),
  }),
]);

export type UrlOutcome = z.infer<typeof UrlOutcomeSchema>;
export type DownloadedImage = Extract<UrlOutcome, { outcome: 'downloaded' }>;
export type DuplicateImage = Extract<UrlOutcome, { outcome: 'duplicate' }>;
export type DownloadFailure = Extract<UrlOutcome, { outcome: 'failed' }>;
