/** Response headers as one lower-case record; repeated headers are joined with ", ". */
export function headerRecord(entries: Iterable<[string, string | string[] | undefined]>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const text = Array.isArray(value) ? value.join(', ') : value;
    headers[key] = headers[key] === undefined ? text : `${headers[key]}, ${text}`;
  }
  return headers;
}

/** undici's headers (already lower-case, arrays for repeated ones) as a record of strings, without a copy when possible. */
export function undiciHeaderRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  for (const key in raw) {
    if (typeof raw[key] !== 'string') return headerRecord(Object.entries(raw));
  }
  return raw as Record<string, string>;
}
