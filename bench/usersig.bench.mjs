// UserSig per call: the client's cached signer vs signing with tls-sig-api-v2 on every call.
import { Api } from 'tls-sig-api-v2';
import { createUserSigSigner } from '@tim-broadcast/core';
import { interleaved, round } from './lib.mjs';

const N = 20_000;
const creds = { sdkAppId: 1400000000, secretKey: 'bench-secret', identifier: 'administrator' };

export default async function run() {
  const signer = createUserSigSigner(creds);
  let sink = 0;
  const ms = await interleaved(
    {
      ours: async () => {
        for (let i = 0; i < N; i++) sink += (await signer.get()).length;
      },
      baseline: async () => {
        for (let i = 0; i < N; i++) sink += new Api(creds.sdkAppId, creds.secretKey).genUserSig(creds.identifier, 86400).length;
      },
    },
    5,
  );
  if (sink === 0) throw new Error('unreachable');
  const perSec = (t) => round((N / t) * 1000, 0);
  return [
    {
      figure: 'UserSig per call: cached signer vs tls-sig-api-v2 per call',
      ours: perSec(ms.ours),
      baseline: perSec(ms.baseline),
      unit: 'sigs/s',
      target: '≥ 10 × baseline',
      pass: ms.baseline / ms.ours >= 10,
    },
  ];
}
