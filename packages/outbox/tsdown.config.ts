import { packageConfig } from '../../tsdown.shared.ts';

export default packageConfig({ entry: ['src/index.ts'] });
