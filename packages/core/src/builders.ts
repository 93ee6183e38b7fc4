import type { z } from 'zod';
import { ValidationError } from './errors/classes';
import { nestingIssue } from './schemas/depth';
import {
  customElemSchema,
  faceElemSchema,
  fileElemSchema,
  imageElemSchema,
  locationElemSchema,
  relayElemSchema,
  soundElemSchema,
  textElemSchema,
  videoElemSchema,
  type CustomElem,
  type FaceElem,
  type FileElem,
  type ImageElem,
  type LocationElem,
  type RelayElem,
  type SoundElem,
  type TextElem,
  type VideoFileElem,
} from './schemas/elements';
import { toIssues } from './schemas/request';

type Content<E extends { MsgContent: unknown }> = E['MsgContent'];
type WithoutFlag<C, K extends keyof C> = Omit<C, K> & Partial<Pick<C, K>>;

/** Checks what a builder made against the element's schema; a ValidationError names e.g. `MsgContent.Text`. */
function checked<E extends { MsgType: string }>(schema: z.ZodType<E>, element: E): E {
  const deep = nestingIssue(element);
  if (deep) throw new ValidationError(`invalid ${element.MsgType}`, [deep]);
  const result = schema.safeParse(element);
  if (!result.success) throw new ValidationError(`invalid ${element.MsgType}`, toIssues(result.error));
  return element;
}

/** Spreads builder input, refusing anything that is not a plain object (`MsgContent` names the argument). */
function contentOf(content: unknown, type: string): Record<string, unknown> {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new ValidationError(`invalid ${type}`, [{ path: ['MsgContent'], message: 'expected an object with the element fields' }]);
  }
  return { ...(content as Record<string, unknown>) };
}

/** `{ MsgType: 'TIMTextElem', MsgContent: { Text } }` */
export function text(Text: string): TextElem {
  return checked(textElemSchema, { MsgType: 'TIMTextElem', MsgContent: { Text } });
}

/**
 * A custom element; pass the payload string, or the content (at least one of Data, Desc, Ext, Sound). `Data` that
 * is not a string is JSON-encoded.
 */
export function custom(content: string | (Omit<Content<CustomElem>, 'Data'> & { Data?: unknown })): CustomElem {
  if (typeof content === 'string') return checked(customElemSchema, { MsgType: 'TIMCustomElem', MsgContent: { Data: content } });
  const fields = contentOf(content, 'TIMCustomElem');
  if (fields.Data !== undefined && typeof fields.Data !== 'string') {
    let encoded: string | undefined;
    try {
      encoded = JSON.stringify(fields.Data);
    } catch {
      // reported below
    }
    if (encoded === undefined) {
      throw new ValidationError('invalid TIMCustomElem', [{ path: ['MsgContent', 'Data'], message: 'expected a string or a JSON-serializable value' }]);
    }
    fields.Data = encoded;
  }
  if (fields.Data === undefined) delete fields.Data;
  return checked(customElemSchema, { MsgType: 'TIMCustomElem', MsgContent: fields as CustomElem['MsgContent'] });
}

export function face(Index: number, Data?: string): FaceElem {
  return checked(faceElemSchema, { MsgType: 'TIMFaceElem', MsgContent: Data === undefined ? { Index } : { Index, Data } });
}

export function location(content: Content<LocationElem>): LocationElem {
  return checked(locationElemSchema, { MsgType: 'TIMLocationElem', MsgContent: contentOf(content, 'TIMLocationElem') as Content<LocationElem> });
}

/** A sound element; `Download_Flag` defaults to 2, which REST requires. */
export function sound(content: WithoutFlag<Content<SoundElem>, 'Download_Flag'>): SoundElem {
  const fields = contentOf(content, 'TIMSoundElem');
  return checked(soundElemSchema, { MsgType: 'TIMSoundElem', MsgContent: { ...fields, Download_Flag: 2 } as Content<SoundElem> });
}

export function image(content: Content<ImageElem>): ImageElem {
  return checked(imageElemSchema, { MsgType: 'TIMImageElem', MsgContent: contentOf(content, 'TIMImageElem') as Content<ImageElem> });
}

/** A file element; `Download_Flag` defaults to 2, which REST requires. */
export function file(content: WithoutFlag<Content<FileElem>, 'Download_Flag'>): FileElem {
  const fields = contentOf(content, 'TIMFileElem');
  return checked(fileElemSchema, { MsgType: 'TIMFileElem', MsgContent: { ...fields, Download_Flag: 2 } as Content<FileElem> });
}

/** A video element; both download flags default to 2, which REST requires. */
export function video(content: WithoutFlag<Content<VideoFileElem>, 'VideoDownloadFlag' | 'ThumbDownloadFlag'>): VideoFileElem {
  const fields = contentOf(content, 'TIMVideoFileElem');
  return checked(videoElemSchema, {
    MsgType: 'TIMVideoFileElem',
    MsgContent: { ...fields, VideoDownloadFlag: 2, ThumbDownloadFlag: 2 } as Content<VideoFileElem>,
  });
}

export function relay(content: Content<RelayElem>): RelayElem {
  return checked(relayElemSchema, { MsgType: 'TIMRelayElem', MsgContent: contentOf(content, 'TIMRelayElem') as Content<RelayElem> });
}
