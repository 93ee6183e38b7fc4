// The emulator in a process of its own, serving many apps (so its CPU is not the measured process's). Told its apps
// over IPC; answers { url }, then counts of what it accepted and refused between two Date.now() instants.
import { startEmulator } from '@tim-broadcast/emulator';

process.once('message', async ({ apps, ratePerSecond, rateModel }) => {
  const accepted = [];
  const refused = [];
  const emu = await startEmulator({
    ...apps[0],
    apps: apps.slice(1),
    ratePerSecond,
    rateModel,
    maxDeliveries: 10,
    onCall: (event) => (event.code === 0 ? accepted : refused).push(event.at, event.code ?? -1),
  });
  process.send({ url: emu.url });
  process.on('message', ({ from, to }) => {
    const count = (list) => {
      const byCode = {};
      let n = 0;
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] < from || list[i] >= to) continue;
        n++;
        byCode[list[i + 1]] = (byCode[list[i + 1]] ?? 0) + 1;
      }
      return { n, byCode };
    };
    process.send({ accepted: count(accepted).n, refused: count(refused).byCode });
  });
});
