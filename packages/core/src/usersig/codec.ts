/** UserSig text encoding: standard base64 with `+` → `*`, `/` → `-`, `=` → `_`. */
export function encodeSigText(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

/** Reverses `encodeSigText`; returns undefined when the text is not in the alphabet. */
export function decodeSigText(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9*\-]+_{0,2}$/.test(text)) return undefined;
  return Buffer.from(text.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64');
}

/** The exact text the HMAC covers (every line ends in `\n`). */
export function signedContent(identifier: string, sdkAppId: number, time: number, expire: number, userbuf?: string): string {
  let content = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbuf !== undefined) content += `TLS.userbuf:${userbuf}\n`;
  return content;
}
