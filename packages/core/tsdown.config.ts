import { packageConfig } from '../../tsdown.shared.ts';

// `./telemetry`: what the other tim-broadcast packages share to report through OpenTelemetry (not for applications)
export default packageConfig({ entry: ['src/index.ts', 'src/telemetry.ts'] });
