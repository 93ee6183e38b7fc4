/** Origin and path of a URL, without its query string, fragment or credentials. */
export function safeUrl(url: string): string {
  if (typeof url !== 'string') return '';
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1').replace(/[?#].*$/s, '');
  }
}

// `usersig=…`, `usersig%3D…`, `"usersig": "…"`, `UserSig: …`: the name, up to four separator characters, the value
// in the UserSig alphabet, base64's, or percent-encoded (one already redacted is left alone: redacting twice changes
// nothing)
const USERSIG_VALUE = /(usersig(?:%3D|[\s"'=:]){1,4})(?!\[redacted\])[\w*\-%+/=.]+/gi;

/**
 * Replaces the value of every `usersig` parameter in free text with `[redacted]`: for text that comes from
 * upstream (an `ErrorInfo`, an HTTP body, a proxy's error page) that may echo the request URL.
 */
export function redactUserSig(text: string): string {
  if (typeof text !== 'string') return '';
  return text.replace(USERSIG_VALUE, '$1[redacted]');
}

/**
 * Removes query strings from free text (error messages, stacks): the request's own query wherever it appears
 * verbatim, then anything that looks like one, then any remaining `usersig` value.
 */
export function scrubText(text: string, url?: string): string {
  const q = url === undefined ? -1 : url.indexOf('?');
  if (url !== undefined && q !== -1 && q < url.length - 1) text = text.split(url.slice(q)).join('?[redacted]');
  return redactUserSig(text.replace(/\?[^\s'"<>`]+/g, '?[redacted]'));
}
