// Property tests: whatever JSON arrives, parsing yields a typed request or a ValidationError naming real paths,
// and the client never puts an invalid request on the wire.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import samples from '../../../../spec/fixtures/broadcast-samples.json';
import { startTestServer, type TestServer } from '../../test/server';
import { createBroadcastClient } from '../client';
import { ValidationError } from '../errors/classes';
import { MAX_MESSAGE_BYTES, messageBytes } from '../size';
import { parseBroadcastRequest } from './request';

const documented = Object.values(samples.elements);

/** Arbitrary values that look like elements: documented ones, mutated ones, and junk. */
const elementLike = fc.oneof(
  fc.constantFrom(...documented),
  fc.record({ MsgType: fc.constantFrom(...documented.map((e) => e.MsgType), 'TIMBogusElem', ''), MsgContent: fc.jsonValue() }),
  fc.tuple(fc.constantFrom(...documented), fc.string(), fc.jsonValue()).map(([el, key, value]) => ({
    ...el,
    MsgContent: { ...el.MsgContent, [key]: value },
  })),
  fc.jsonValue(),
);

const requestLike = fc.record(
  {
    From_Account: fc.oneof(fc.string(), fc.jsonValue()),
    Random: fc.oneof(fc.integer({ min: -1, max: 2 ** 32 }), fc.double(), fc.jsonValue()),
    MsgBody: fc.oneof(fc.array(elementLike, { maxLength: 6 }), fc.jsonValue()),
    CloudCustomData: fc.oneof(fc.string(), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

function check(input: unknown): void {
  try {
    const request = parseBroadcastRequest(input);
    expect(request.MsgBody.length).toBeGreaterThan(0);
    expect(messageBytes(request.MsgBody)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(request.MsgBody.filter((e) => e.MsgType === 'TIMCustomElem').length).toBeLessThanOrEqual(1);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.length).toBeGreaterThan(0);
  }
}

describe('parseBroadcastRequest under arbitrary input', () => {
  it('never crashes on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 2000 });
  });

  it('never crashes on request-shaped input, and what it accepts obeys the rules', () => {
    fc.assert(fc.property(requestLike, check), { numRuns: 2000 });
  });

  it('accepts every combination of documented elements with at most one custom', () => {
    const nonCustom = documented.filter((e) => e.MsgType !== 'TIMCustomElem');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...nonCustom), { minLength: 1, maxLength: 8 }), fc.boolean(), (body, withCustom) => {
        const MsgBody = withCustom ? [...body, samples.elements.TIMCustomElem] : body;
        expect(parseBroadcastRequest({ MsgBody }).MsgBody).toEqual(MsgBody);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the client under arbitrary input', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('sends only what the schema accepts', async () => {
    const client = createBroadcastClient({ sdkAppId: 1400000000, secretKey: 'fuzz-secret-key', identifier: 'admin', baseUrl: server.url, retry: false });
    await fc.assert(
      fc.asyncProperty(requestLike, async (input) => {
        const before = server.seen.length;
        let valid = true;
        try {
          parseBroadcastRequest(input);
        } catch {
          valid = false;
        }
        const outcome = await client.broadcast(input as never).then(
          () => 'sent',
          (err) => err,
        );
        if (valid) {
          expect(outcome).toBe('sent');
          expect(server.seen.length).toBe(before + 1);
        } else {
          expect(outcome).toBeInstanceOf(ValidationError);
          expect(server.seen.length).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
    await client.close();
  });
});
