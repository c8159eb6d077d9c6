/** Invalid configuration: the message names every offending field. (No imports: workflows name it too.) */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
