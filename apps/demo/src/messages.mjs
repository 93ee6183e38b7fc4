// 200 broadcasts of mixed kinds and sizes (20 to 3,000 bytes), the same on every run (seeded).
import { custom, face, file, image, location, messageBytes, sound, text, video } from '@tim-broadcast/core';

function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'goal corner penalty kickoff halftime replay lineup sub whistle score crowd stage encore chat vote poll'.split(' ');

export function makeMessages(count = 200, seed = 7) {
  const rand = prng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const sentence = (bytes) => {
    let s = '';
    while (s.length < bytes) s += pick(WORDS) + ' ';
    return s.slice(0, bytes);
  };
  const uuid = () => Math.floor(rand() * 2 ** 52).toString(16).padStart(13, '0');
  const kinds = [
    () => [text(sentence(20 + Math.floor(rand() * 400)))],
    () => [text(sentence(500 + Math.floor(rand() * 2400)))],
    () => [custom({ Data: { type: 'score', home: Math.floor(rand() * 5), away: Math.floor(rand() * 5), note: sentence(Math.floor(rand() * 1500)) } })],
    () => [face(Math.floor(rand() * 100), 'cheer')],
    () => [location({ Desc: sentence(30), Latitude: rand() * 180 - 90, Longitude: rand() * 360 - 180 })],
    () => [text(sentence(40)), image({ UUID: uuid(), ImageFormat: 1, ImageInfoArray: [1, 2, 3].map((Type) => ({ Type, Width: 720, Height: 960, Size: 2133, URL: `https://cdn.example.com/${uuid()}.jpg` })) })],
    () => [sound({ Url: `https://cdn.example.com/${uuid()}.mp3`, UUID: uuid(), Size: 62351, Second: 3 })],
    () => [file({ Url: `https://cdn.example.com/${uuid()}.pdf`, UUID: uuid(), FileSize: 1773552, FileName: 'schedule.pdf' })],
    () => [video({ VideoUrl: `https://cdn.example.com/${uuid()}.mp4`, VideoUUID: uuid(), VideoSize: 1194603, VideoSecond: 5, VideoFormat: 'mp4', ThumbUrl: `https://cdn.example.com/${uuid()}.jpg`, ThumbUUID: uuid(), ThumbWidth: 720, ThumbHeight: 1280, ThumbFormat: 'JPG' })],
  ];
  return Array.from({ length: count }, (_, i) => {
    const MsgBody = pick(kinds)();
    return { id: i, kind: MsgBody.map((e) => e.MsgType.replace(/^TIM|Elem$/g, '')).join('+'), bytes: messageBytes(MsgBody), request: { MsgBody } };
  });
}
