import { Inject } from '@nestjs/common';
import { BroadcastService } from './broadcast.service';
import { DEFAULT_BROADCAST_NAME, namedServiceToken } from './tokens';

/**
 * The injection token of a registration's `BroadcastService`: the class itself for the unnamed registration (and for
 * `'default'`), a symbol for `forRoot({ name })`. Use it with `moduleRef.get()` or `overrideProvider()`.
 */
export function getBroadcastServiceToken(name?: string): typeof BroadcastService | symbol {
  return name === undefined || name === DEFAULT_BROADCAST_NAME ? BroadcastService : namedServiceToken(name);
}

/** Injects the `BroadcastService` of the registration `name` (the unnamed one without a name). */
export function InjectBroadcast(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getBroadcastServiceToken(name));
}
