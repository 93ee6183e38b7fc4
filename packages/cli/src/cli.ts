#!/usr/bin/env node
import { runCli } from './run';

// a reader that went away (`tim-broadcast regions | head -1`) ends the run quietly, as it would a Unix tool
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
