import { REGIONS } from '@tim-broadcast/core';
import { EXIT_OK } from './errors';
import { line, type CliIo } from './io';
import { gridTable } from './render';

/** `regions`: the region presets and their domains (core's REGIONS). */
export function regionsCommand(io: CliIo, flags: { json?: boolean }): number {
  if (flags.json) {
    line(io.stdout, JSON.stringify(REGIONS));
    return EXIT_OK;
  }
  line(io.stdout, gridTable(['region', 'domain', 'backup domain'], Object.entries(REGIONS).map(([name, e]) => [name, e.primary, e.backup])));
  line(io.stdout, 'Pick the region where the app was created: --region NAME or TIM_REGION=NAME.');
  return EXIT_OK;
}
