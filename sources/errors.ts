/** Errors of the search layer that workflows name too; this module imports nothing. */

/** Thrown for a date that is neither a Date nor YYYY-MM-DD. */
export class InvalidSearchDateError extends Error {
  override readonly name = 'InvalidSearchDateError';
}
