import { z } from 'zod';
import { uint32Schema } from './numbers';

// Field names and types follow the "Message Formats" page; REST requirements (URL, UUID, Download_Flag 2...) are enforced.
// Objects are strict: a misspelt field (the API is case-sensitive) is an error, not silently dropped.

const count = z.int().nonnegative();
const downloadFlag = z.literal(2, { error: 'must be 2 (download by URL) for REST messages' });
const url = z.string().min(1);

export const textElemSchema = z.strictObject({
  MsgType: z.literal('TIMTextElem'),
  MsgContent: z.strictObject({ Text: z.string() }),
});

export const locationElemSchema = z.strictObject({
  MsgType: z.literal('TIMLocationElem'),
  MsgContent: z.strictObject({
    Desc: z.string().optional(),
    Latitude: z.number().min(-90).max(90),
    Longitude: z.number().min(-180).max(180),
  }),
});

export const faceElemSchema = z.strictObject({
  MsgType: z.literal('TIMFaceElem'),
  MsgContent: z.strictObject({ Index: z.int(), Data: z.string().optional() }),
});

export const customElemSchema = z.strictObject({
  MsgType: z.literal('TIMCustomElem'),
  // the docs mark none of the four as required; an element with none of them carries nothing
  MsgContent: z
    .strictObject({
      /** The payload; not passed to APNs. */
      Data: z.string().optional(),
      /** Push text. */
      Desc: z.string().optional(),
      /** Passed through to APNs as `ext`. */
      Ext: z.string().optional(),
      /** Custom APNs sound. */
      Sound: z.string().optional(),
    })
    .refine((c) => c.Data !== undefined || c.Desc !== undefined || c.Ext !== undefined || c.Sound !== undefined, {
      error: 'set at least one of Data, Desc, Ext or Sound',
    }),
});

export const soundElemSchema = z.strictObject({
  MsgType: z.literal('TIMSoundElem'),
  MsgContent: z.strictObject({
    Url: url,
    UUID: z.string().min(1),
    Size: count.optional(),
    Second: count.optional(),
    Download_Flag: downloadFlag,
  }),
});

export const imageInfoSchema = z.strictObject({
  /** 1 original, 2 large, 3 thumbnail. */
  Type: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  Size: count.optional(),
  Width: count,
  Height: count,
  URL: url,
});

export const imageElemSchema = z.strictObject({
  MsgType: z.literal('TIMImageElem'),
  MsgContent: z.strictObject({
    UUID: z.string().min(1),
    /** JPG 1, GIF 2, PNG 3, BMP 4, other 255. */
    ImageFormat: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(255)]).optional(),
    ImageInfoArray: z.array(imageInfoSchema).min(1),
  }),
});

export const fileElemSchema = z.strictObject({
  MsgType: z.literal('TIMFileElem'),
  MsgContent: z.strictObject({
    Url: url,
    UUID: z.string().min(1),
    FileSize: count.optional(),
    FileName: z.string().optional(),
    Download_Flag: downloadFlag,
  }),
});

export const videoElemSchema = z.strictObject({
  MsgType: z.literal('TIMVideoFileElem'),
  MsgContent: z.strictObject({
    VideoUrl: url,
    VideoUUID: z.string().min(1),
    VideoSize: count.optional(),
    VideoSecond: count.optional(),
    VideoFormat: z.string().optional(),
    VideoDownloadFlag: downloadFlag,
    ThumbUrl: url,
    ThumbUUID: z.string().min(1),
    ThumbSize: count.optional(),
    ThumbWidth: count,
    ThumbHeight: count,
    ThumbFormat: z.string().optional(),
    ThumbDownloadFlag: downloadFlag,
  }),
});

export const relayItemSchema = z.looseObject({
  From_Account: z.string().optional(),
  To_Account: z.string().optional(),
  GroupId: z.string().optional(),
  MsgSeq: uint32Schema.optional(),
  MsgRandom: uint32Schema.optional(),
  MsgTimeStamp: z.int().optional(),
  MsgBody: z.array(z.looseObject({ MsgType: z.string(), MsgContent: z.record(z.string(), z.unknown()) })),
  CloudCustomData: z.string().optional(),
});

/** A combined (forwarded) message. Relays may nest up to MAX_RELAY_DEPTH (8) deep; see `schemas/depth.ts`. */
export const relayElemSchema = z.strictObject({
  MsgType: z.literal('TIMRelayElem'),
  MsgContent: z
    .strictObject({
      Title: z.string().optional(),
      MsgNum: count.optional(),
      CompatibleText: z.string().optional(),
      AbstractList: z.array(z.string()).optional(),
      /** The forwarded messages, when they fit in 12 KB... */
      MsgList: z.array(relayItemSchema).optional(),
      /** ...or the key of the stored list when they do not. */
      JsonMsgKey: z.string().optional(),
    })
    .refine((c) => (c.MsgList === undefined) !== (c.JsonMsgKey === undefined), {
      error: 'set exactly one of MsgList or JsonMsgKey',
    }),
});

export const msgElementSchema = z.discriminatedUnion('MsgType', [
  textElemSchema,
  locationElemSchema,
  faceElemSchema,
  customElemSchema,
  soundElemSchema,
  imageElemSchema,
  fileElemSchema,
  videoElemSchema,
  relayElemSchema,
]);

export type TextElem = z.infer<typeof textElemSchema>;
export type LocationElem = z.infer<typeof locationElemSchema>;
export type FaceElem = z.infer<typeof faceElemSchema>;
export type CustomElem = z.infer<typeof customElemSchema>;
export type SoundElem = z.infer<typeof soundElemSchema>;
export type ImageElem = z.infer<typeof imageElemSchema>;
export type ImageInfo = z.infer<typeof imageInfoSchema>;
export type FileElem = z.infer<typeof fileElemSchema>;
export type VideoFileElem = z.infer<typeof videoElemSchema>;
export type RelayElem = z.infer<typeof relayElemSchema>;
export type MsgElement = z.infer<typeof msgElementSchema>;
export type MsgType = MsgElement['MsgType'];
