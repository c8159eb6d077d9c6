/**
 * Where images come from: search providers, the saved search results, and the safe downloader.
 * Library code: knows nothing of Temporal (activities wrap these functions).
 */
export * from './providers';
export { canonicalJson, InvalidSearchDateError, loadSearchResults, SavedSearchSchema, searchAndSave, searchQueryHash } from './search';
export type { SavedSearch, SavedSearchRef, SearchAndSaveOptions, SearchAndSaveRequest } from './search';
export { DOWNLOAD_FAILURE_REASONS, downloadImages, UrlOutcomeSchema } from './download';
export type {
  DownloadedImage,
  DownloadFailure,
  DownloadFailureReason,
  DownloadItem,
  DownloadOptions,
  DownloadResult,
  DuplicateImage,
  UrlOutcome,
} from './download';
export { DEFAULT_USER_AGENT, redact, SAFE_FETCH_REASONS, safeFetch, SafeFetchError } from './safe-fetch';
export type { ResolveHost, SafeFetchOptions, SafeFetchReason, SafeResponse } from './safe-fetch';
export { AllowList, InvalidAllowHostError } from './allow-list';
export { classifyAddress, isPublicAddress, type AddressClass } from './address';
export { IMAGE_REJECTIONS, ImageRejectedError, readImageHeader, verifyDecodes, type ImageHeader, type ImageRejection } from './image-check';
export { EXTENSION, sniffImageFormat, type ImageFormat } from './sniff';
