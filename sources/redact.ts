/**
 * URLs and texts as safe to log or keep in an error: no `data:` payloads, no query-string values
 * (API keys, signatures and tokens live there, under names nobody can list in advance), no user
 * info, no fragments. Query parameter names stay, so a reader still sees what was asked.
 */

const MAX_SHOWN = 300;

/** `https://h/p?key=***&q=***`, `data:image/png;base64,…[5120 chars]`, `file:///photos/a.jpg`. */
export function redactUrl(input: URL | string): string {
  const text = String(input);
  if (/^data:/i.test(text.trimStart())) return redactDataUrl(text.trimStart());
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : input;
  } catch {
    // Not a URL: keep a short head, cut at the first query or fragment.
    const head = text.replace(/[?#].*$/s, (rest) => (rest.startsWith('?') ? '?…' : ''));
    return head.length > MAX_SHOWN ? `${head.slice(0, MAX_SHOWN)}…[${text.length} chars]` : head;
  }
  if (url.protocol === 'data:') return redactDataUrl(url.href);
  const auth = url.username || url.password ? '***@' : '';
  const query = [...url.searchParams.keys()].map((name) => `${encodeURIComponent(name)}=***`).join('&');
  const base = url.protocol === 'file:' ? `file://${url.pathname}` : `${url.protocol}//${auth}${url.host}${url.pathname}`;
  const shown = base.length > MAX_SHOWN ? `${base.slice(0, MAX_SHOWN)}…` : base;
  return query ? `${shown}?${query}` : url.search ? `${shown}?…` : shown;
}

/** Replaces every URL (and `data:` URL) in free text with its redacted form, and each secret with ***. */
export function redactText(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let clean = text.replace(/\bdata:[^\s"'<>)]*/gi, (match) => redactDataUrl(match));
  clean = clean.replace(/\b(?:https?|ftp|file):\/\/[^\s"'<>)]+/gi, (match) => redactUrl(match));
  for (const secret of secrets) if (secret) clean = clean.split(secret).join('***');
  return clean;
}

/** The media type stays (it says what was refused); the payload becomes its length. */
function redactDataUrl(text: string): string {
  const comma = text.indexOf(',');
  const header = (comma === -1 ? text : text.slice(0, comma)).slice(0, 100);
  const payload = comma === -1 ? 0 : text.length - comma - 1;
  return `${header},…[${payload} chars]`;
}
