// The fast path must never disagree with the zod schema: on generated input — valid, nearly valid and junk — the
// client's serializer gives the same body or the same ValidationError with or without it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import samples from '../../../../spec/fixtures/broadcast-samples.json';
import { ValidationError } from '../errors/classes';
import { fastRequest } from './fast-request';
import { serializeBroadcastRequest, serializeWithSchema } from './request';

const pick = (random: number | undefined) => random ?? 4242;

type Outcome = { body: string } | { issues: unknown };
function outcome(serialize: typeof serializeWithSchema, input: unknown): Outcome {
  try {
    return { body: serialize(input, pick).body };
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return { issues: (err as ValidationError).issues };
  }
}

/** An object with the given entries in a shuffled order (the schema's output has its own order). */
const shuffled = (entries: [string, unknown][]) =>
  fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }).map((e) => Object.fromEntries(e));

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constant(''));
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 90, -90, 180, -180, 90.000001, 2 ** 53, 2 ** 53 - 1, NaN, Infinity, -Infinity, 1e-7),
);

/** Valid content of the four element types the fast path handles. */
const validElement = fc.oneof(
  text.chain((t) => shuffled([['Text', t]])).map((c) => ({ MsgType: 'TIMTextElem', MsgContent: c })),
  fc
    .record({ Data: text, Desc: text, Ext: text, Sound: text }, { requiredKeys: [] })
    .filter((c) => Object.keys(c).length > 0)
    .chain((c) => shuffled(Object.entries(c)))
    .map((c) => ({ MsgType: 'TIMCustomElem', MsgContent: c })),
  fc
    .record({ Index: fc.integer(), Data: text }, { requiredKeys: ['Index'] })
    .chain((c) => shuffled(Object.entries(c)))
    .map((c) => ({ MsgType: 'TIMFaceElem', MsgContent: c })),
  fc
    .record({ Desc: text, Latitude: fc.double({ min: -90, max: 90, noNaN: true }), Longitude: fc.double({ min: -180, max: 180, noNaN: true }) }, { requiredKeys: ['Latitude', 'Longitude'] })
    .chain((c) => shuffled(Object.entries(c)))
    .map((c) => ({ MsgType: 'TIMLocationElem', MsgContent: c })),
);

const validRequest = fc
  .record(
    {
      From_Account: fc.string({ minLength: 1 }),
      Random: fc.integer({ min: 0, max: 0xffffffff }),
      MsgBody: fc.array(validElement, { minLength: 1, maxLength: 5 }).filter((body) => body.filter((e) => e.MsgType === 'TIMCustomElem').length <= 1),
      CloudCustomData: text,
    },
    { requiredKeys: ['MsgBody'] },
  )
  .chain((r) => shuffled(Object.entries(r)))
  .filter((r) => Buffer.byteLength(JSON.stringify(r.MsgBody)) <= 12_000);

/** Values to put where they may or may not belong. */
const anyValue = fc.oneof(text, number, fc.jsonValue(), fc.constantFrom(undefined, null, '', {}, [], true));
const fieldName = fc.oneof(
  fc.constantFrom('Text', 'Data', 'Desc', 'Ext', 'Sound', 'Index', 'Latitude', 'Longitude', 'MsgType', 'MsgContent', 'From_Account', 'Random', 'CloudCustomData', 'MsgBody', '__proto__', 'constructor', 'text'),
  fc.string(),
);
const contentKey = fc.constantFrom('Text', 'Data', 'Desc', 'Ext', 'Sound', 'Index', 'Latitude', 'Longitude');
/** Numbers at the edges of what the schema allows. */
const edgeNumber = fc.constantFrom(NaN, Infinity, -Infinity, -0, 1.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 90, -90, 90.0000001, -90.0000001, 180, -180, 180.0000001, -180.0000001, 1e-7);
const elementStyle = fc.constantFrom('class instance', 'inherited key', 'null prototype', 'plain');

/** One change to a valid request, at one place: the fast path must notice it exactly when the schema does. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set content field'), at: fc.nat(), key: fieldName, value: anyValue }),
  fc.record({ kind: fc.constant('set content field'), at: fc.nat(), key: contentKey, value: fc.oneof(edgeNumber, anyValue) }),
  fc.record({ kind: fc.constant('clear content'), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete content field'), at: fc.nat(), key: fieldName }),
  fc.record({ kind: fc.constant('set element field'), at: fc.nat(), key: fieldName, value: anyValue }),
  fc.record({ kind: fc.constant('set MsgType'), at: fc.nat(), value: fc.oneof(anyValue, fc.constantFrom('TIMTextElem', 'TIMCustomElem', 'TIMFaceElem', 'TIMLocationElem', 'TIMImageElem', 'TIMRelayElem')) }),
  fc.record({ kind: fc.constant('set request field'), key: fieldName, value: anyValue }),
  fc.record({ kind: fc.constant('restyle element'), at: fc.nat(), style: elementStyle }),
  fc.record({ kind: fc.constant('add element'), element: fc.oneof(validElement, fc.constantFrom(...Object.values(samples.elements))) }),
  fc.record({ kind: fc.constant('empty MsgBody') }),
);

function mutate(request: Record<string, unknown>, change: Record<string, unknown>): unknown {
  const body: Record<string, unknown>[] = (request.MsgBody as Record<string, unknown>[]).map((el) => ({ ...el, MsgContent: { ...(el.MsgContent as object) } }));
  const out: Record<string, unknown> = { ...request, MsgBody: body };
  const i = (change.at as number) % body.length;
  const key = change.key as string;
  // `__proto__` as an own key, as JSON.parse makes it
  const own = (target: Record<string, unknown>, value: unknown) => (key === '__proto__' ? Object.defineProperty(target, key, { value, enumerable: true }) : (target[key] = value));
  switch (change.kind) {
    case 'set content field':
      own(body[i]!.MsgContent as Record<string, unknown>, change.value);
      break;
    case 'clear content':
      body[i]!.MsgContent = {};
      break;
    case 'delete content field':
      delete (body[i]!.MsgContent as Record<string, unknown>)[key];
      break;
    case 'set element field':
      own(body[i]!, change.value);
      break;
    case 'set MsgType':
      body[i]!.MsgType = change.value;
      break;
    case 'set request field':
      own(out, change.value);
      break;
    case 'restyle element': {
      const el = body[i]!;
      if (change.style === 'class instance') body[i] = Object.assign(new (class Element {})(), el);
      else if (change.style === 'inherited key') body[i] = Object.assign(Object.create({ Inherited: 1 }), el);
      else if (change.style === 'null prototype') body[i] = Object.assign(Object.create(null), el, { MsgContent: Object.assign(Object.create(null), el.MsgContent) });
      break;
    }
    case 'add element':
      body.push(change.element as Record<string, unknown>);
      break;
    case 'empty MsgBody':
      body.length = 0;
      break;
  }
  return out;
}

const mutatedRequest = fc.tuple(validRequest, mutation).map(([request, change]) => mutate(request, change));

const requestLike = fc
  .record(
    {
      From_Account: fc.oneof(text, fc.jsonValue(), fc.constant(undefined)),
      Random: fc.oneof(fc.integer({ min: -1, max: 2 ** 32 }), number, fc.jsonValue(), fc.constant(undefined)),
      MsgBody: fc.oneof(fc.array(fc.oneof(validElement, fc.constantFrom(...Object.values(samples.elements)), fc.jsonValue()), { maxLength: 5 }), fc.jsonValue()),
      CloudCustomData: fc.oneof(text, fc.jsonValue(), fc.constant(undefined)),
      Extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .chain((r) => shuffled(Object.entries(r)));

describe('the fast path of serializeBroadcastRequest', () => {
  it('takes every valid text, custom, face and location request, whatever its key order, with the body the schema gives', () => {
    fc.assert(
      fc.property(validRequest, (input) => {
        expect(fastRequest(input)).toBeDefined();
        expect(serializeBroadcastRequest(input, pick)).toEqual(serializeWithSchema(input, pick));
      }),
      { numRuns: 3_000 },
    );
  });

  it('never disagrees with the schema on nearly valid input and junk (same body, or the same ValidationError)', () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(mutatedRequest, mutatedRequest, requestLike, validRequest, fc.jsonValue()), (input) => {
        if (fastRequest(input)) fast++;
        expect(outcome(serializeBroadcastRequest, input)).toEqual(outcome(serializeWithSchema, input));
      }),
      { numRuns: 20_000 },
    );
    // the property is about the fast path: make sure the runs exercised it
    expect(fast).toBeGreaterThan(1_000);
  });

  it('leaves a MsgBody over 12,000 bytes to the schema, which names its size', () => {
    const input = { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'é'.repeat(6_000) } }] };
    expect(fastRequest(input)).toBeUndefined();
    expect(() => serializeBroadcastRequest(input, pick)).toThrow(/MsgBody is 12052 bytes; the limit is 12000/);
  });

  it('takes numbers at the edges the schema allows', () => {
    const input = {
      MsgBody: [
        { MsgType: 'TIMLocationElem', MsgContent: { Latitude: -90, Longitude: 180 } },
        { MsgType: 'TIMFaceElem', MsgContent: { Index: -(2 ** 53 - 1) } },
      ],
      Random: 0xffffffff,
    };
    expect(fastRequest(input)).toBeDefined();
    expect(serializeBroadcastRequest(input, pick)).toEqual(serializeWithSchema(input, pick));
  });

  it('writes the schema key order and drops undefined fields', () => {
    const input = { MsgBody: [{ MsgContent: { Sound: 's', Desc: undefined, Data: 'd' }, MsgType: 'TIMCustomElem' }], Random: 1 };
    expect(fastRequest(input)?.msgBody).toBe('[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"d","Sound":"s"}}]');
    expect(serializeBroadcastRequest(input, pick).body).toBe(serializeWithSchema(input, pick).body);
  });
});
