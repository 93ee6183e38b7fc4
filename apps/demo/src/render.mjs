// Terminal output on cli-progress and cli-table3 (the libraries the tim-broadcast CLI uses): a live progress bar
// (a line every 2 s when stdout is not a terminal) and a two-column table.
import cliProgress from 'cli-progress';
import Table from 'cli-table3';

export function progressBar(total, read) {
  const payload = () => {
    const c = read();
    return { sent: c.sent, calls: c.calls, retries: c.retries, failed: c.failed ? `  failed ${c.failed}` : '' };
  };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stdout,
      format: '{bar} sent {sent}/{total}  delivered {value}/{total}  calls {calls}  retries {retries}{failed}',
      barsize: 30,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, payload());
  const timer = setInterval(() => bar.update(read().delivered, payload()), 100);
  return {
    stop() {
      clearInterval(timer);
      bar.update(read().delivered, payload());
      bar.stop();
    },
  };
}

export function table(rows) {
  const t = new Table({ style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const row of rows) t.push(row);
  return t.toString();
}
