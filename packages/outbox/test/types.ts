// Compiled by `pnpm typecheck`, never run. The NestJS and Express packages' `outbox` option (rate-limit's openOutbox)
// loads this package by name and calls createOutbox with the options it declares as OutboxFactory; rate-limit cannot
// import this package to check them, so the check is here: every option it passes is one createOutbox takes, of a
// type it takes, and every option createOutbox requires is passed.
import type { OutboxFactory } from '@tim-broadcast/rate-limit';
import type { OutboxOptions } from '../src/index';

type Passed = Parameters<OutboxFactory['createOutbox']>[0];
// `redis` differs on purpose: openOutbox passes what the app gave (a client, or one it made); createOutbox checks it
export const takes = (passed: Omit<Passed, 'redis'>): Omit<OutboxOptions, 'redis'> => passed;
type Unknown = Exclude<keyof Passed, keyof OutboxOptions>;
export const noUnknownOption: [Unknown] extends [never] ? true : Unknown = true;
