// Compiled by `pnpm typecheck`, never run: the option types keep the client's "region or baseUrl, exactly one", and a
// factory annotated with the exported types type-checks as the README shows.
import { Injectable } from '@nestjs/common';
import { ConfigModule, registerAs, type ConfigType } from '@nestjs/config';
import { BroadcastModule, InjectBroadcast, BroadcastService, type BroadcastModuleOptions, type BroadcastOptionsFactory, type Region } from '@tim-broadcast/nestjs';

const app = { sdkAppId: 1400000000, secretKey: 'k', identifier: 'administrator' };

export const withRegion = BroadcastModule.forRoot({ ...app, region: 'singapore' });
export const withBaseUrl = BroadcastModule.forRoot({ ...app, baseUrl: 'http://127.0.0.1:8080', name: 'eu' });
// @ts-expect-error neither region nor baseUrl
export const neither = BroadcastModule.forRoot({ ...app });
// @ts-expect-error both region and baseUrl
export const both = BroadcastModule.forRoot({ ...app, region: 'singapore', baseUrl: 'http://127.0.0.1:8080' });
// @ts-expect-error not a region
export const atlantis = BroadcastModule.forRoot({ ...app, region: 'atlantis' });

export const asyncNeither = BroadcastModule.forRootAsync({
  // @ts-expect-error the factory returns neither region nor baseUrl
  useFactory: () => ({ ...app }),
});

// the README's annotation: the return type makes `region: 'singapore'` a Region, not a string
@Injectable()
export class BroadcastConfig implements BroadcastOptionsFactory {
  createBroadcastOptions(): BroadcastModuleOptions {
    return { ...app, region: 'singapore', rateLimit: { ratePerSecond: 1 } };
  }
}
export const viaClass = BroadcastModule.forRootAsync({ useClass: BroadcastConfig });

export const broadcastConfig = registerAs('broadcast', (): BroadcastModuleOptions => ({ ...app, region: (process.env.TIM_REGION ?? 'singapore') as Region }));
export const viaRegisterAs = BroadcastModule.forRootAsync({
  imports: [ConfigModule.forFeature(broadcastConfig)],
  inject: [broadcastConfig.KEY],
  useFactory: (config: ConfigType<typeof broadcastConfig>) => config,
});

@Injectable()
export class TwoApps {
  constructor(
    readonly main: BroadcastService,
    @InjectBroadcast('eu') readonly eu: BroadcastService,
  ) {}
}
