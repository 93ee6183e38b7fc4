import type {
  CustomElem,
  FaceElem,
  FileElem,
  ImageElem,
  LocationElem,
  RelayElem,
  SoundElem,
  TextElem,
  VideoFileElem,
} from './schemas/elements';

type Content<E extends { MsgContent: unknown }> = E['MsgContent'];
type WithoutFlag<C, K extends keyof C> = Omit<C, K> & Partial<Pick<C, K>>;

/** `{ MsgType: 'TIMTextElem', MsgContent: { Text } }` */
export function text(Text: string): TextElem {
  return { MsgType: 'TIMTextElem', MsgContent: { Text } };
}

/** A custom element; pass the payload string, or the full content. `Data` that is not a string is JSON-encoded. */
export function custom(content: string | (Omit<Content<CustomElem>, 'Data'> & { Data: unknown })): CustomElem {
  if (typeof content === 'string') return { MsgType: 'TIMCustomElem', MsgContent: { Data: content } };
  const Data = typeof content.Data === 'string' ? content.Data : JSON.stringify(content.Data);
  return { MsgType: 'TIMCustomElem', MsgContent: { ...content, Data } };
}

export function face(Index: number, Data?: string): FaceElem {
  return { MsgType: 'TIMFaceElem', MsgContent: Data === undefined ? { Index } : { Index, Data } };
}

export function location(content: Content<LocationElem>): LocationElem {
  return { MsgType: 'TIMLocationElem', MsgContent: { ...content } };
}

/** A sound element; `Download_Flag` defaults to 2, which REST requires. */
export function sound(content: WithoutFlag<Content<SoundElem>, 'Download_Flag'>): SoundElem {
  return { MsgType: 'TIMSoundElem', MsgContent: { ...content, Download_Flag: 2 } };
}

export function image(content: Content<ImageElem>): ImageElem {
  return { MsgType: 'TIMImageElem', MsgContent: { ...content } };
}

/** A file element; `Download_Flag` defaults to 2, which REST requires. */
export function file(content: WithoutFlag<Content<FileElem>, 'Download_Flag'>): FileElem {
  return { MsgType: 'TIMFileElem', MsgContent: { ...content, Download_Flag: 2 } };
}

/** A video element; both download flags default to 2, which REST requires. */
export function video(content: WithoutFlag<Content<VideoFileElem>, 'VideoDownloadFlag' | 'ThumbDownloadFlag'>): VideoFileElem {
  return { MsgType: 'TIMVideoFileElem', MsgContent: { ...content, VideoDownloadFlag: 2, ThumbDownloadFlag: 2 } };
}

export function relay(content: Content<RelayElem>): RelayElem {
  return { MsgType: 'TIMRelayElem', MsgContent: { ...content } };
}
