export {
  createBroadcastClient,
  randomFromKey,
  MAX_BATCH_SIZE,
  BATCH_SIZE_HEADER,
  type BroadcastClient,
  type BroadcastClientOptions,
  type BroadcastCallOptions,
  type BroadcastResult,
  type BroadcastHooks,
  type RequestEvent,
  type ResponseEvent,
  type RetryEvent,
  type RetryOptions,
  type CallRetryOptions,
  type Logger,
} from './client';
export type { Limiter, LimiterPermit } from './limiter';
export {
  REGIONS,
  BROADCAST_PATH,
  resolveEndpoint,
  buildRequestUrl,
  randomUint32,
  redactUrl,
  isLoopbackHostname,
  type Region,
  type Endpoint,
  type EndpointOptions,
  type RequestUrlParams,
} from './regions';
export {
  signUserSig,
  createUserSigSigner,
  DEFAULT_USERSIG_EXPIRE_SECONDS,
  MAX_USERSIG_EXPIRE_SECONDS,
  type SecretKeySource,
  type SignUserSigOptions,
  type UserSigSigner,
  type UserSigSignerOptions,
} from './usersig/sign';
export {
  verifyUserSig,
  decodeUserSig,
  MAX_USERSIG_LENGTH,
  MAX_TICKET_BYTES,
  type UserSigCheck,
  type UserSigInvalidReason,
  type VerifyUserSigOptions,
} from './usersig/verify';
export * from './schemas/elements';
export {
  broadcastRequestSchema,
  broadcastResponseSchema,
  msgBodySchema,
  uint32Schema,
  parseBroadcastRequest,
  toIssues,
  UINT32_MAX,
  type BroadcastRequest,
  type BroadcastRequestInput,
  type BroadcastResponse,
} from './schemas/request';
export { text, custom, face, location, sound, image, file, video, relay } from './builders';
export { MAX_MESSAGE_BYTES, messageBytes } from './size';
export { MAX_RELAY_DEPTH, MAX_JSON_DEPTH, nestingIssue } from './schemas/depth';
export { ApiError, ValidationError, QueueFullError, QueueClosedError, formatPath, type ValidationIssue } from './errors/classes';
export { describeErrorCode, errorCatalogue, EXPIRED_SIGNATURE_CODES, type ErrorCategory, type ErrorCodeInfo } from './errors/codes';
export { TimBroadcastError, TransportError, TimeoutError, AbortError, fetchTransport, redactUserSig, type Transport } from '@tim-broadcast/transport';
export { sleep } from './sleep';
export * from './options';
