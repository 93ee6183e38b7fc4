// The 12,000-byte limit on the path the client really uses (serializeBroadcastRequest measures the serialized
// MsgBody itself), with the boundary built from literal numbers, never from MAX_MESSAGE_BYTES: loosening the check
// or changing the constant must fail here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/server';
import { custom, text } from './builders';
import { createBroadcastClient, type BroadcastClient } from './client';
import { ValidationError } from './errors/classes';

let server: TestServer;
let client: BroadcastClient;
beforeAll(async () => {
  server = await startTestServer();
  client = createBroadcastClient({ sdkAppId: 1400000001, secretKey: 'client-size-secret', identifier: 'administrator', baseUrl: server.url, retry: false });
});
afterAll(async () => {
  await client.close();
  await server.close();
});

/** The MsgBody text exactly as it arrived at the server. */
function msgBodyOnTheWire(rawBody: string): string {
  const start = rawBody.indexOf('"MsgBody":') + '"MsgBody":'.length;
  const end = rawBody.lastIndexOf(']') + 1;
  return rawBody.slice(start, end);
}

describe('client.broadcast and the 12,000-byte MsgBody limit', () => {
  // [{"MsgType":"TIMTextElem","MsgContent":{"Text":"…"}}] is 52 bytes around the text
  it.each([
    ['ASCII', 'x'.repeat(11_948)],
    ['3-byte UTF-8', '€'.repeat(3_982) + 'xx'],
    ['an escaped quote costs 2 bytes', '"'.repeat(5_974)],
  ])('sends a MsgBody of exactly 12,000 bytes (%s)', async (_name, Text) => {
    const before = server.seen.length;
    await client.broadcast({ MsgBody: [text(Text)] });
    expect(server.seen.length).toBe(before + 1);
    const wire = msgBodyOnTheWire(server.seen[before]!.rawBody);
    expect(Buffer.byteLength(wire, 'utf8')).toBe(12_000);
  });

  it.each([
    ['ASCII', 12_001, [text('x'.repeat(11_949))]],
    ['ASCII, 4 bytes over', 12_004, [text('x'.repeat(11_952))]],
    ['3-byte UTF-8', 12_001, [text('€'.repeat(3_983))]],
    // [ + 5,950 + , + 6,048 + ]
    ['two elements', 12_001, [text('x'.repeat(5_900)), custom('y'.repeat(5_996))]],
  ])('refuses %s at %i bytes, and nothing reaches the server', async (_name, bytes, MsgBody) => {
    const before = server.seen.length;
    const err = await client.broadcast({ MsgBody }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.path).toEqual(['MsgBody']);
    expect((err as Error).message).toContain(`MsgBody is ${bytes} bytes; the limit is 12000 bytes`);
    expect(server.seen.length).toBe(before);
  });
});
