import { describe, expect, it } from 'vitest';
import samples from '../../../../spec/fixtures/broadcast-samples.json';
import { custom, face, file, image, location, relay, sound, text, video } from '../builders';
import { ValidationError, formatPath } from '../errors/classes';
import { MAX_MESSAGE_BYTES, messageBytes } from '../size';
import type { MsgElement } from './elements';
import { broadcastResponseSchema, msgBodySchema, parseBroadcastRequest } from './request';

/** A TIMRelayElem holding a relay holding ... `depth` relays in all, a text at the bottom (built without recursion). */
function nestedRelay(depth: number): MsgElement {
  let element: MsgElement = { MsgType: 'TIMTextElem', MsgContent: { Text: 'bottom' } };
  for (let i = 0; i < depth; i++) element = { MsgType: 'TIMRelayElem', MsgContent: { Title: `level ${depth - i}`, MsgList: [{ MsgBody: [element] }] } };
  return element;
}

/** Sets fields on the first MsgList item of a relay element (bypassing the builder's own check). */
const withItem = (fields: Record<string, unknown>) => (el: MsgElement) => {
  const content = el.MsgContent as { MsgList: Record<string, unknown>[] };
  return { ...el, MsgContent: { ...content, MsgList: [{ ...content.MsgList[0], ...fields }] } };
};

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('parseBroadcastRequest', () => {
  it('parses the documented sample request unchanged', () => {
    expect(parseBroadcastRequest(samples.request)).toEqual(samples.request);
  });

  it.each(Object.entries(samples.elements))('parses the documented %s sample', (_type, element) => {
    expect(parseBroadcastRequest({ MsgBody: [element] }).MsgBody[0]).toEqual(element);
  });

  it('parses the documented responses', () => {
    expect(broadcastResponseSchema.parse(samples.response).MsgSeq).toBe(1283);
    expect(broadcastResponseSchema.parse(samples.failure).ErrorCode).toBe(10004);
  });

  it('accepts what the builders make', () => {
    const body = [
      text('hi'),
      face(1, 'x'),
      location({ Desc: 'here', Latitude: 1, Longitude: 2 }),
      custom({ Data: { type: 1 }, Desc: 'd' }),
      sound({ Url: 'https://e/a.mp3', UUID: 'u1', Second: 1 }),
      image({ UUID: 'u2', ImageFormat: 1, ImageInfoArray: [{ Type: 1, Width: 1, Height: 1, URL: 'https://e/i.jpg' }] }),
      file({ Url: 'https://e/a.pdf', UUID: 'u3', FileName: 'a.pdf' }),
      video({ VideoUrl: 'https://e/v.mp4', VideoUUID: 'u4', ThumbUrl: 'https://e/t.jpg', ThumbUUID: 'u5', ThumbWidth: 1, ThumbHeight: 1 }),
    ];
    expect(parseBroadcastRequest({ MsgBody: body }).MsgBody).toEqual(body);
    expect(custom({ Data: { type: 1 } }).MsgContent.Data).toBe('{"type":1}');
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'hello', '(root)'],
    ['missing MsgBody', { Random: 1 }, 'MsgBody'],
    ['empty MsgBody', { MsgBody: [] }, 'MsgBody'],
    ['MsgBody not an array', { MsgBody: text('a') }, 'MsgBody'],
    ['Text of the wrong type', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 5 } }] }, 'MsgBody[0].MsgContent.Text'],
    ['a misspelt field', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { text: 'a' } }] }, 'MsgBody[0].MsgContent'],
    ['an unknown MsgType', { MsgBody: [text('a'), { MsgType: 'TIMBogusElem', MsgContent: {} }] }, 'MsgBody[1].MsgType'],
    ['two custom elements', { MsgBody: [custom('a'), text('b'), custom('c')] }, 'MsgBody[2].MsgType'],
    ['Random out of range', { Random: 2 ** 32, MsgBody: [text('a')] }, 'Random'],
    ['Random negative', { Random: -1, MsgBody: [text('a')] }, 'Random'],
    ['Random not an integer', { Random: 1.5, MsgBody: [text('a')] }, 'Random'],
    ['Download_Flag other than 2', { MsgBody: [{ MsgType: 'TIMFileElem', MsgContent: { Url: 'u', UUID: 'x', Download_Flag: 0 } }] }, 'MsgBody[0].MsgContent.Download_Flag'],
    ['From_Account empty', { From_Account: '', MsgBody: [text('a')] }, 'From_Account'],
    ['CloudCustomData not a string', { CloudCustomData: {}, MsgBody: [text('a')] }, 'CloudCustomData'],
    ['a field of send_group_msg', { GroupId: 'g', MsgBody: [text('a')] }, '(root)'],
    ['latitude out of range', { MsgBody: [{ MsgType: 'TIMLocationElem', MsgContent: { Latitude: 91, Longitude: 0 } }] }, 'MsgBody[0].MsgContent.Latitude'],
    // literal numbers, not MAX_MESSAGE_BYTES: 52 bytes of JSON around the text, 11,949 + 52 = 12,001
    ['12,001 bytes', { MsgBody: [text('x'.repeat(11_949))] }, 'MsgBody'],
    ['a relayed MsgSeq of -1', { MsgBody: [relay({ MsgList: [{ MsgSeq: 1, MsgBody: [] }] })].map(withItem({ MsgSeq: -1 })) }, 'MsgBody[0].MsgContent.MsgList[0].MsgSeq'],
    ['a relayed MsgRandom of 2^32', { MsgBody: [relay({ MsgList: [{ MsgBody: [] }] })].map(withItem({ MsgRandom: 2 ** 32 })) }, 'MsgBody[0].MsgContent.MsgList[0].MsgRandom'],
    ['a custom element with no field', { MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: {} }] }, 'MsgBody[0].MsgContent'],
    ['relays nested 9 deep', { MsgBody: [nestedRelay(9)] }, `MsgBody[0]${'.MsgContent.MsgList[0].MsgBody[0]'.repeat(8)}`],
  ])('rejects %s', (_name, input, path) => {
    let error: unknown;
    try {
      parseBroadcastRequest(input);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).issues.map((i) => formatPath(i.path));
    expect(paths).toContain(path);
    expect((error as Error).message).toContain(path === '(root)' ? '' : path);
  });

  it('accepts exactly 12,000 bytes and names both numbers at 12,001', () => {
    const at = (n: number) => ({ MsgBody: [text('x'.repeat(n - 52))] });
    expect(messageBytes(at(12_000).MsgBody)).toBe(12_000);
    expect(() => parseBroadcastRequest(at(12_000))).not.toThrow();
    expect(() => parseBroadcastRequest(at(12_001))).toThrow(/12001 bytes; the limit is 12000 bytes/);
    expect(MAX_MESSAGE_BYTES).toBe(12_000);
  });

  it('accepts a custom element with any one of Data, Desc, Ext or Sound', () => {
    for (const content of [{ Data: 'd' }, { Desc: 'push text' }, { Ext: '{}' }, { Sound: 'ding.aiff' }, { Data: '', Desc: 'd' }]) {
      expect(parseBroadcastRequest({ MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: content }] }).MsgBody[0]!.MsgContent).toEqual(content);
    }
    expect(custom({ Desc: 'push only' })).toEqual({ MsgType: 'TIMCustomElem', MsgContent: { Desc: 'push only' } });
  });

  it('accepts relays nested 8 deep, with uint32 MsgSeq and MsgRandom at their bounds', () => {
    const request = parseBroadcastRequest({ MsgBody: [nestedRelay(8)] });
    expect(JSON.stringify(request)).toContain('TIMRelayElem');
    const item = { MsgSeq: 0, MsgRandom: 4_294_967_295, MsgBody: [text('a')] };
    expect(parseBroadcastRequest({ MsgBody: [relay({ MsgList: [item] })] }).MsgBody[0]).toEqual(relay({ MsgList: [item] }));
  });

  it('refuses input nested far beyond any stack with a ValidationError, on every path that walks it', () => {
    for (const depth of [9, 10_000, 200_000]) {
      const body = [nestedRelay(depth)];
      const errors = [
        catchError(() => parseBroadcastRequest({ MsgBody: body })),
        catchError(() => messageBytes(body)),
        catchError(() => relay(body[0]!.MsgContent as never)),
      ];
      for (const err of errors) {
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as Error).message).toMatch(/nested more than (8 deep|64 levels)/);
      }
      // the schema the emulator uses reports it as an issue (no throw)
      const parsed = msgBodySchema.safeParse(body);
      expect(parsed.success).toBe(false);
      expect(parsed.error!.issues.map((i) => i.message)).toContain(`TIMRelayElem nested more than 8 deep`);
    }
    // deep JSON that is not a relay: an unknown element inside a relay item
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const err = catchError(() => parseBroadcastRequest({ MsgBody: [relay({ MsgList: [{ MsgBody: [{ MsgType: 'X', MsgContent: { deep } }] }] })] }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(/nested more than 64 levels deep/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(messageBytes([text('€'.repeat(3_982))])).toBe(11_998);
    expect(messageBytes([text('€')])).toBe(JSON.stringify([text('x')]).length + 2);
  });
});
