/**
 * Pure: credentials out of text a tool printed (stderr, error messages) before it is
 * logged or shown: the user:password of URLs (rest:https://user:pass@host/,
 * s3/sftp/ssh URLs) and key=value secrets. Applied by the host to every error of
 * every exporter, and by sources to the lines they log themselves.
 */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+):([^\s/@]+)@/gi;
const KEY_VALUE = /\b(password|passwd|passphrase|token|secret|access_key|secret_key|api_key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi;

export function scrubCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:<secret>@').replace(KEY_VALUE, '$1$2<secret>');
}
