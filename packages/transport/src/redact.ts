/** Origin and path of a URL, without its query string, fragment or credentials. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1').replace(/[?#].*$/s, '');
  }
}

/**
 * Removes query strings from free text (error messages, stacks): the request's own query wherever it appears
 * verbatim, then anything that looks like one.
 */
export function scrubText(text: string, url?: string): string {
  const q = url === undefined ? -1 : url.indexOf('?');
  if (url !== undefined && q !== -1 && q < url.length - 1) text = text.split(url.slice(q)).join('?[redacted]');
  return text.replace(/\?[^\s'"<>`]+/g, '?[redacted]');
}
