/**
 * What one run may ask for. Whoever starts a run is not trusted with the workers' resources beyond
 * these; the run-input schema, the provider option schemas and the url-list reader state and
 * enforce them. Plain constants: safe to import from workflow code.
 */
export const RUN_LIMITS = {
  /** Characters of the run input as JSON (Temporal itself refuses payloads over 2 MB). */
  inputChars: 128 * 1024,
  /** Images one run may search for and download. */
  maxItems: 100_000,
  /** URLs given inline in a url-list run input (`providerOptions.urls`); longer lists go through the store. */
  inlineUrls: 1_000,
  /** Characters of one URL. */
  urlChars: 2_048,
  /** Bytes of a url-list file (from the store or a configured folder). */
  listBytes: 16 * 1024 * 1024,
  /** Distinct URLs in a url-list file. */
  listUrls: 100_000,
  /** Characters of a store key, a path or another free-text option in the run input. */
  textChars: 1_024,
} as const;
