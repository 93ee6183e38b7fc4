import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, counts: { calls: number; failed: number }): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

/** A cli-progress bar on `stream` when it is a terminal; nothing otherwise (logs stay clean). */
export function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number): Progress {
  if (!stream.isTTY) return NO_PROGRESS;
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WriteStream,
      format: 'sending {bar} {value}/{total} lines | {calls} calls | {failed} failed | {eta_formatted} left',
      hideCursor: true,
      barsize: 30,
      etaBuffer: 20,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { calls: 0, failed: 0 });
  return {
    update: (done, counts) => bar.update(done, counts),
    stop: () => bar.stop(),
  };
}
