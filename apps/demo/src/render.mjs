// Terminal output: a live progress bar (a line every 2 s when stdout is not a terminal) and a two-column table.

export function progressBar(total, read) {
  const tty = process.stdout.isTTY;
  const draw = () => {
    const c = read();
    const width = 30;
    const done = Math.round((c.delivered / total) * width);
    const line = `[${'█'.repeat(done)}${'░'.repeat(width - done)}] sent ${c.sent}/${total}  delivered ${c.delivered}/${total}  calls ${c.calls}  retries ${c.retries}${c.failed ? `  failed ${c.failed}` : ''}`;
    if (tty) process.stdout.write(`\r${line}`);
    else console.log(line);
  };
  const timer = setInterval(draw, tty ? 100 : 2000);
  draw();
  return {
    stop() {
      clearInterval(timer);
      draw();
      if (tty) process.stdout.write('\n');
    },
  };
}

export function table(rows) {
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, val]) => val.length));
  const rule = `+-${'-'.repeat(w)}-+-${'-'.repeat(v)}-+`;
  return [rule, ...rows.map(([k, val]) => `| ${k.padEnd(w)} | ${val.padEnd(v)} |`), rule].join('\n');
}
