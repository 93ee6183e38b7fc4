/** UserSig text encoding: standard base64 with `+` → `*`, `/` → `-`, `=` → `_`. */
export function encodeSigText(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

/**
 * Reverses `encodeSigText`, strictly: only that alphabet, padded to a multiple of 4, and canonical (the text is
 * exactly what encoding the bytes gives back). Undefined otherwise.
 */
export function decodeSigText(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9*\-]+_{0,2}$/.test(text)) return undefined;
  return decodeStrictBase64(text.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='));
}

/**
 * Standard base64 (`+`, `/`, `=` padding), strictly: Node's decoder skips junk, accepts the URL-safe alphabet and
 * missing padding; a signature must not verify in any of those forms. Undefined unless `text` is canonical.
 */
export function decodeStrictBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The exact text the HMAC covers (every line ends in `\n`). */
export function signedContent(identifier: string, sdkAppId: number, time: number, expire: number, userbuf?: string): string {
  let content = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbuf !== undefined) content += `TLS.userbuf:${userbuf}\n`;
  return content;
}
