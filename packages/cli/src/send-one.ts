import { createBroadcastClient, custom, formatPath, parseBroadcastRequest, text, ValidationError, type MsgElement } from '@tim-broadcast/core';
import { optionsError, resolveConfig, type AppFlags } from './config';
import { confirmSend } from './confirm';
import { EXIT_OK, usageError } from './errors';
import { line, type CliIo } from './io';

export interface SendOneFlags extends AppFlags {
  custom?: string;
  from?: string;
  cloudCustomData?: string;
  idempotencyKey?: string;
  yes?: boolean;
  json?: boolean;
}

/** `send "text"`: one broadcast through the client (validated, signed, retried with the same Random). */
export async function sendOne(io: CliIo, message: string | undefined, flags: SendOneFlags): Promise<number> {
  const request = buildRequest(message, flags);
  if (flags.idempotencyKey === '') throw usageError('--idempotency-key: expected a non-empty key');
  const config = resolveConfig(flags, io.env, { endpoint: true });
  await confirmSend(io, { config, what: 'one broadcast', yes: flags.yes ?? false, stdinIsData: false });

  let client;
  try {
    client = createBroadcastClient({ sdkAppId: config.sdkAppId, secretKey: config.secretKey, identifier: config.identifier, ...config.endpoint });
  } catch (err) {
    throw optionsError(err);
  }
  try {
    const { MsgSeq, Random, attempts } = await client.broadcast(request, flags.idempotencyKey === undefined ? {} : { idempotencyKey: flags.idempotencyKey });
    if (flags.json) line(io.stdout, JSON.stringify({ MsgSeq, Random, attempts }));
    else line(io.stdout, `sent: MsgSeq ${MsgSeq}, Random ${Random} (${attempts} attempt${attempts === 1 ? '' : 's'})`);
    return EXIT_OK;
  } finally {
    await client.close();
  }
}

/** The flag a request field came from, for messages. */
function flagOf(path: readonly PropertyKey[], elements: readonly string[]): string {
  const [field, index] = path;
  if (field === 'From_Account') return '--from';
  if (field === 'CloudCustomData') return '--cloud-custom-data';
  if (field === 'MsgBody' && typeof index === 'number') return elements[index] ?? formatPath(path);
  return formatPath(path);
}

function buildRequest(message: string | undefined, flags: SendOneFlags) {
  const MsgBody: MsgElement[] = [];
  const elements: string[] = [];
  if (message !== undefined) {
    MsgBody.push(text(message));
    elements.push('the text');
  }
  if (flags.custom !== undefined) {
    try {
      JSON.parse(flags.custom);
    } catch (err) {
      throw usageError(`--custom: expected JSON (${(err as Error).message})`);
    }
    MsgBody.push(custom(flags.custom));
    elements.push('--custom');
  }
  if (MsgBody.length === 0) throw usageError('nothing to send: give the text (send "Doors open"), --custom JSON, or --file FILE');
  try {
    return parseBroadcastRequest({
      MsgBody,
      ...(flags.from === undefined ? {} : { From_Account: flags.from }),
      ...(flags.cloudCustomData === undefined ? {} : { CloudCustomData: flags.cloudCustomData }),
    });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw usageError(`invalid broadcast:\n${err.issues.map((i) => `  ${flagOf(i.path, elements)}: ${i.message}`).join('\n')}`);
  }
}
