import { Command, InvalidArgumentError, Option } from 'commander';
import { version } from '../package.json';
import type { AppFlags } from './config';
import { EMULATOR_EXAMPLES, emulatorCommand } from './emulator';
import { usageError } from './errors';
import type { CliIo } from './io';
import { regionsCommand } from './regions';
import { sendFile } from './send-file';
import { sendOne, type SendOneFlags } from './send-one';
import { signCommand, verifyCommand } from './usersig';

const CONFIGURATION = `Configuration (flags override the variables):
  TIM_SDKAPPID      --sdkappid        the app ID
  TIM_SECRET_KEY    --secret-key-file the app's secret key; never a flag (shell history, ps)
  TIM_IDENTIFIER    --identifier      an app admin account (default administrator)
  TIM_REGION        --region          where the app was created (tim-broadcast regions)
  TIM_BASE_URL      --base-url        instead of a region, e.g. the emulator's http://127.0.0.1:8080
  TIM_ALLOW_INSECURE_HTTP=1  --allow-insecure-http  allow http:// to a host other than this machine`;

const EXIT_CODES = `Exit codes: 0 success; 1 failure (API or network error, with what to do about its code; a line not sent;
  not confirmed); 2 usage or validation (bad flags, bad configuration, a bad line in --file; nothing was sent).`;

const ROOT_HELP = `
${CONFIGURATION}

${EXIT_CODES}

Examples:
  export TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=... TIM_REGION=singapore
  tim-broadcast send "Maintenance in 10 minutes"
  tim-broadcast send --file announcements.ndjson --rate 1
  tim-broadcast usersig verify "$SIG"
  tim-broadcast emulator --port 8080
  tim-broadcast <command> --help    # each command's flags and examples
`;

const SEND_HELP = `
One broadcast reaches EVERY audio-video group (AVChatRoom) of the app. Before sending to a real app (any base URL
not on this machine) the app and region are named and, on a terminal, you are asked to confirm; without a
terminal it refuses unless --yes is given. Never asked for a loopback base URL (the emulator).

--file FILE: one broadcast per line, either a request as in the REST docs or { "text": "..." }:
  {"text":"Doors open in 5 minutes"}
  {"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\\"kind\\":\\"countdown\\"}"}}],"CloudCustomData":"v1"}
The whole file is checked first: a bad line stops the run (its line number and field are named, exit 2, nothing
sent). Then every line goes through the coalescing queue at --rate: lines with the same From_Account and
CloudCustomData are packed, in order, into calls of up to 12,000 bytes (at most one TIMCustomElem per call; a line
with its own Random is sent alone). --dry-run prints exactly those calls. Ctrl-C stops intake: lines still
waiting are not sent, the call in flight finishes, and the report lists what was and was not sent.

Output: "sent: MsgSeq N, Random R" (--json: {"MsgSeq","Random","attempts"}). With --file, a summary table, and
with --json one line per input line, in input order:
  {"line":1,"status":"sent","MsgSeq":12,"Random":3735928559,"batchSize":3}
  {"line":4,"status":"failed","error":{"name":"ApiError","message":"...","code":80002}}
  {"line":5,"status":"not-sent","error":{"name":"Interrupted","message":"..."}}

Examples:
  tim-broadcast send "Maintenance in 10 minutes"
  tim-broadcast send "Match starts" --custom '{"kind":"countdown","seconds":300}' --from ops
  tim-broadcast send "Doors open" --idempotency-key doors-2025-06-01 --json
  tim-broadcast send --file announcements.ndjson --dry-run
  tim-broadcast send --file announcements.ndjson --rate 5 --yes --json > results.ndjson
  generate-announcements | tim-broadcast send --file - --yes
`;

const USERSIG_HELP = `
Prints the UserSig on stdout (and nothing else there), the expiry on stderr. It is a password for the admin
account: do not paste it where others can read it.

Examples:
  tim-broadcast usersig
  tim-broadcast usersig --expire 3600 --identifier ops
  curl "https://adminapisgp.im.qcloud.com/v4/...&usersig=$(tim-broadcast usersig --expire 300)"
`;

const VERIFY_HELP = `
Checks a UserSig as the server does (TLS sig v2: SDKAppID, identifier, expiry, HMAC with the secret key).
Valid: exit 0 and its expiry. Invalid: exit 1 and the reason (expired, sdkappid-mismatch, identifier-mismatch,
bad-signature, undecodable) with the error code the API answers for it.

Examples:
  tim-broadcast usersig verify "$SIG"
  pbpaste | tim-broadcast usersig verify -
  tim-broadcast usersig verify "$SIG" --identifier ops --json
`;

const REGIONS_HELP = `
Examples:
  tim-broadcast regions
  tim-broadcast regions --json
`;

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1000) throw new InvalidArgumentError('expected a number of calls per second above 0 and at most 1000');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number of seconds');
  return n;
}

/** The configuration flags of every command that talks to an app, shown in their own help group. */
function withAppOptions(command: Command): Command {
  return command
    .optionsGroup('Configuration (overrides TIM_*):')
    .option('--sdkappid <id>', 'the app ID [TIM_SDKAPPID]')
    .option('--identifier <account>', 'an app admin account [TIM_IDENTIFIER, default administrator]')
    .option('--region <name>', 'where the app was created (tim-broadcast regions) [TIM_REGION]')
    .option('--base-url <url>', 'an API base URL instead of a region, e.g. the emulator [TIM_BASE_URL]')
    .option('--secret-key-file <path>', 'read the secret key from this file [else TIM_SECRET_KEY; never a flag]')
    .option('--allow-insecure-http', 'allow an http:// base URL to another machine (the UserSig travels in clear text) [TIM_ALLOW_INSECURE_HTTP=1]')
    .optionsGroup('Options:');
}

interface SendFlags extends SendOneFlags {
  file?: string;
  rate: number;
  dryRun?: boolean;
}

/** The command tree. Each action hands its exit code to `done`. */
export function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command('tim-broadcast')
    .description('Broadcast to every audio-video group (AVChatRoom) of a Tencent Cloud Chat app, sign and check UserSigs, run the emulator.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'tim-broadcast: ')),
    })
    .addHelpText('after', ROOT_HELP);

  const send = program
    .command('send')
    .summary('broadcast one message, or each line of an NDJSON file')
    .description('Broadcast one message (text, a custom element, or both), or every line of an NDJSON file through the coalescing queue.')
    .argument('[text]', 'the text to broadcast (a TIMTextElem)')
    .option('--custom <json>', 'a TIMCustomElem whose Data is this JSON text (after the text, if both)')
    .option('--from <account>', 'From_Account: the sender shown (default the admin)')
    .option('--cloud-custom-data <string>', 'CloudCustomData stored with the message')
    .option('--idempotency-key <key>', 'derive the body Random from this key: re-running with the same key within 5 minutes is one message')
    .addOption(new Option('--file <path>', 'one broadcast per line (NDJSON); - reads standard input').conflicts(['custom', 'from', 'cloudCustomData', 'idempotencyKey']))
    .option('--rate <n>', "calls per second for --file: the app's limit (1, or 5 on higher editions)", positiveNumber, 1)
    .option('--dry-run', 'with --file: check the file and print the calls it would make (bytes per call, duration); send nothing')
    .option('-y, --yes', 'send to a real app without asking')
    .option('--json', 'machine-readable output on stdout');
  withAppOptions(send)
    .addHelpText('after', SEND_HELP)
    .action(async (text: string | undefined, flags: SendFlags, command: Command) => {
      if (flags.file !== undefined) {
        if (text !== undefined) throw usageError('send: give the text or --file, not both');
        done(await sendFile(io, flags.file, flags));
        return;
      }
      if (flags.dryRun) throw usageError('send: --dry-run plans a --file run');
      if (command.getOptionValueSource('rate') === 'cli') throw usageError('send: --rate paces a --file run; one broadcast needs no rate');
      done(await sendOne(io, text, flags));
    });

  const usersig = program
    .command('usersig')
    .summary('print a UserSig for the configured identifier; usersig verify SIG checks one')
    .description('Sign a UserSig for the configured identifier and print it on stdout.')
    .option('--expire <seconds>', 'lifetime in seconds', positiveInteger, 86_400)
    .option('--json', 'print {"userSig","sdkAppId","identifier","expireSeconds","expiresAt"}');
  withAppOptions(usersig)
    .addHelpText('after', USERSIG_HELP)
    .action((flags: AppFlags & { expire: number; json?: boolean }) => done(signCommand(io, flags)));

  const verify = usersig
    .command('verify')
    .description('Check a UserSig against the configured app, identifier and secret key.')
    .argument('<sig>', 'the UserSig, or - to read it from standard input')
    .option('--json', 'print {"valid","issuedAt","expiresAt"} or {"valid","reason","explanation"}');
  withAppOptions(verify)
    .addHelpText('after', VERIFY_HELP)
    .action(async (sig: string, flags: AppFlags & { json?: boolean }) => done(await verifyCommand(io, sig, flags)));

  program
    .command('regions')
    .summary('list the regions and their API domains')
    .description('List the regions and their API domains.')
    .option('--json', 'print core\'s REGIONS as JSON')
    .addHelpText('after', REGIONS_HELP)
    .action((flags: { json?: boolean }) => done(regionsCommand(io, flags)));

  program
    .command('emulator')
    .summary('run the local emulator (tim-broadcast emulator --help lists its flags)')
    .description('Run the local send_broadcast_msg emulator until Ctrl-C; same flags and TIM_EMULATOR_* variables as tim-broadcast-emulator.')
    .argument('[flags...]', 'the emulator\'s flags (tim-broadcast emulator --help)')
    .helpOption(false)
    .allowUnknownOption()
    .addHelpText('after', `\n${EMULATOR_EXAMPLES}`)
    .action(async (args: string[]) => done(await emulatorCommand(io, args)));

  return program;
}
