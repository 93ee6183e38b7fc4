import { MAX_MESSAGE_BYTES } from '../size';
import { UINT32_MAX } from './numbers';

/** A request the fast path vouched for: its MsgBody already as the JSON the schema's output would give. */
export interface FastRequest {
  msgBody: string;
  From_Account: string | undefined;
  Random: number | undefined;
  CloudCustomData: string | undefined;
}

const REQUEST_KEYS = new Set(['From_Account', 'Random', 'MsgBody', 'CloudCustomData']);
const ELEMENT_KEYS = new Set(['MsgType', 'MsgContent']);
const CUSTOM_KEYS = new Set(['Data', 'Desc', 'Ext', 'Sound']);
const FACE_KEYS = new Set(['Index', 'Data']);
const LOCATION_KEYS = new Set(['Desc', 'Latitude', 'Longitude']);

/**
 * The common requests — text, custom, face and location elements — checked and serialized in one pass, without
 * zod. It accepts only what `broadcastRequestShapeSchema` accepts, and its `msgBody` is exactly
 * `JSON.stringify` of the schema's output (keys in the schema's order, `undefined` fields left out); it also
 * leaves to the schema any MsgBody over the byte limit. For anything else — other element types, a class
 * instance, an unknown or inherited key, a value of the wrong type, two custom elements — it returns undefined,
 * and the caller runs the schema, which decides and names the problem. `fast-request.test.ts` checks, on
 * generated input, that the two never disagree. (Like the schema, it reads each field once: accessors that
 * answer differently each time are outside what either promises.)
 */
export function fastRequest(input: unknown): FastRequest | undefined {
  if (!isPlainObject(input) || !onlyKeys(input, REQUEST_KEYS)) return undefined;
  const { From_Account, Random, MsgBody, CloudCustomData } = input as Record<string, unknown>;
  if (From_Account !== undefined && (typeof From_Account !== 'string' || From_Account.length === 0)) return undefined;
  if (Random !== undefined && (typeof Random !== 'number' || !Number.isInteger(Random) || Random < 0 || Random > UINT32_MAX)) return undefined;
  if (CloudCustomData !== undefined && typeof CloudCustomData !== 'string') return undefined;
  if (!Array.isArray(MsgBody) || MsgBody.length === 0) return undefined;
  let msgBody = '[';
  let customs = 0;
  for (let i = 0; i < MsgBody.length; i++) {
    const element: unknown = MsgBody[i];
    if (!isPlainObject(element) || !onlyKeys(element, ELEMENT_KEYS)) return undefined;
    const { MsgType, MsgContent } = element as Record<string, unknown>;
    if (!isPlainObject(MsgContent)) return undefined;
    const content = MsgContent as Record<string, unknown>;
    let json: string | undefined;
    if (MsgType === 'TIMTextElem') json = textContent(content);
    else if (MsgType === 'TIMCustomElem') json = ++customs > 1 ? undefined : customContent(content);
    else if (MsgType === 'TIMFaceElem') json = faceContent(content);
    else if (MsgType === 'TIMLocationElem') json = locationContent(content);
    if (json === undefined) return undefined;
    msgBody += `${i === 0 ? '' : ','}{"MsgType":"${MsgType}","MsgContent":${json}}`;
  }
  msgBody += ']';
  if (Buffer.byteLength(msgBody, 'utf8') > MAX_MESSAGE_BYTES) return undefined;
  return { msgBody, From_Account, Random, CloudCustomData };
}

function textContent(content: Record<string, unknown>): string | undefined {
  for (const key in content) if (key !== 'Text') return undefined;
  const { Text } = content;
  return typeof Text === 'string' ? `{"Text":${JSON.stringify(Text)}}` : undefined;
}

function customContent(content: Record<string, unknown>): string | undefined {
  if (!onlyKeys(content, CUSTOM_KEYS)) return undefined;
  const { Data, Desc, Ext, Sound } = content;
  let json = '';
  if (Data !== undefined) {
    if (typeof Data !== 'string') return undefined;
    json += `,"Data":${JSON.stringify(Data)}`;
  }
  if (Desc !== undefined) {
    if (typeof Desc !== 'string') return undefined;
    json += `,"Desc":${JSON.stringify(Desc)}`;
  }
  if (Ext !== undefined) {
    if (typeof Ext !== 'string') return undefined;
    json += `,"Ext":${JSON.stringify(Ext)}`;
  }
  if (Sound !== undefined) {
    if (typeof Sound !== 'string') return undefined;
    json += `,"Sound":${JSON.stringify(Sound)}`;
  }
  // the schema asks for at least one of the four
  return json ? `{${json.slice(1)}}` : undefined;
}

function faceContent(content: Record<string, unknown>): string | undefined {
  if (!onlyKeys(content, FACE_KEYS)) return undefined;
  const { Index, Data } = content;
  if (typeof Index !== 'number' || !Number.isSafeInteger(Index)) return undefined;
  if (Data !== undefined && typeof Data !== 'string') return undefined;
  return `{"Index":${JSON.stringify(Index)}${Data === undefined ? '' : `,"Data":${JSON.stringify(Data)}`}}`;
}

function locationContent(content: Record<string, unknown>): string | undefined {
  if (!onlyKeys(content, LOCATION_KEYS)) return undefined;
  const { Desc, Latitude, Longitude } = content;
  if (Desc !== undefined && typeof Desc !== 'string') return undefined;
  if (!inRange(Latitude, 90) || !inRange(Longitude, 180)) return undefined;
  return `{${Desc === undefined ? '' : `"Desc":${JSON.stringify(Desc)},`}"Latitude":${JSON.stringify(Latitude)},"Longitude":${JSON.stringify(Longitude)}}`;
}

/** A finite number within ±`bound` (zod's `z.number()` refuses NaN and ±Infinity). */
function inRange(value: unknown, bound: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= -bound && value <= bound;
}

/** An object literal or `Object.create(null)`: no class whose getters or prototype could say otherwise. */
function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Every enumerable key, inherited ones included (as the schema's strict objects read them), is in `known`. */
function onlyKeys(value: object, known: ReadonlySet<string>): boolean {
  for (const key in value) if (!known.has(key)) return false;
  return true;
}
