import { describe, expect, it } from 'vitest';
import samples from '../../../../spec/fixtures/broadcast-samples.json';
import { custom, face, file, image, location, sound, text, video } from '../builders';
import { ValidationError, formatPath } from '../errors/classes';
import { MAX_MESSAGE_BYTES, messageBytes } from '../size';
import { broadcastResponseSchema, parseBroadcastRequest } from './request';

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

  const big = 'x'.repeat(MAX_MESSAGE_BYTES);
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
    ['latitude out of range', { MsgBody: [location({ Latitude: 91, Longitude: 0 })] }, 'MsgBody[0].MsgContent.Latitude'],
    ['12,001 bytes', { MsgBody: [text(big.slice(0, MAX_MESSAGE_BYTES - 52 + 1))] }, 'MsgBody'],
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
    expect(messageBytes(at(MAX_MESSAGE_BYTES).MsgBody)).toBe(12_000);
    expect(() => parseBroadcastRequest(at(12_000))).not.toThrow();
    expect(() => parseBroadcastRequest(at(12_001))).toThrow(/12001 bytes; the limit is 12000 bytes/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(messageBytes([text('€')])).toBe(JSON.stringify([text('x')]).length + 2);
  });
});
