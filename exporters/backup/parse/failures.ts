/**
 * Pure: what a failed restic or borg run means, from its exit code and stderr
 * (plain text, restic's JSON exit_error lines, borg's --log-json lines), as one of
 * the host's fixed reasons plus a line that says what to fix.
 */
import type { ErrorReason } from '../../../collector/contract.js';
import { scrubCredentials } from '../../../collector/scrub.js';

export { scrubCredentials };

export interface Failure {
  readonly reason: ErrorReason;
  readonly message: string;
  readonly hint?: string;
}

function firstLine(text: string): string {
  return scrubCredentials(
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? '',
  );
}

/** restic >= 0.17 writes `{"message_type":"exit_error","code":N,"message":"..."}` with --json. */
function resticJsonError(stderr: string): { code?: number; message?: string } | undefined {
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const obj = JSON.parse(line) as { message_type?: string; code?: number; message?: string };
      if (obj.message_type === 'exit_error') return obj;
    } catch {
      // Not JSON: plain text follows.
    }
  }
  return undefined;
}

/** restic's exit codes since 0.17: 10 no repository, 11 lock failed, 12 wrong password. */
export function classifyRestic(code: number | null, stderr: string, repository: string): Failure {
  const json = resticJsonError(stderr);
  const text = json?.message ?? stderr;
  const exit = json?.code ?? code;
  const line = firstLine(text);
  if (exit === 12 || /wrong password|no key found|empty password|Resolving password failed/i.test(text)) {
    return {
      reason: 'auth',
      message: `restic cannot open ${repository}: wrong password (${line})`,
      hint: 'check password / password_file of this instance',
    };
  }
  if (exit === 11 || /unable to create lock|repository is already locked|lock .* held/i.test(text)) {
    return {
      reason: 'locked',
      message: `restic repository ${repository} is locked by another process (${line})`,
      hint: 'wait for the running backup or prune; if its process is gone, run `restic unlock`',
    };
  }
  if (
    exit === 10 ||
    /Is there a repository at the following location|repository does not exist|unable to open config file/i.test(text)
  ) {
    return {
      reason: 'unreachable',
      message: `no restic repository at ${repository} (${line})`,
      hint: 'check the repository location, and that the NAS or cloud bucket is mounted and reachable',
    };
  }
  if (/connection refused|no such host|i\/o timeout|network is unreachable|dial tcp|ssh: /i.test(text)) {
    return {
      reason: 'unreachable',
      message: `restic cannot reach ${repository} (${line})`,
      hint: 'check the network path to the repository backend',
    };
  }
  return { reason: 'other', message: `restic exited with code ${String(exit)}: ${line || '(no message)'}` };
}

/** borg 1.2 / 2 with --log-json: msgid names the error class. */
function borgJsonError(stderr: string): { msgid?: string; message?: string } | undefined {
  let found: { msgid?: string; message?: string } | undefined;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const obj = JSON.parse(line) as { type?: string; levelname?: string; msgid?: string; message?: string };
      if (obj.type === 'log_message' && (obj.levelname === 'ERROR' || obj.levelname === 'CRITICAL')) {
        found ??= obj;
        if (obj.msgid) return obj;
      }
    } catch {
      // Not JSON.
    }
  }
  return found;
}

export function classifyBorg(code: number | null, stderr: string, repository: string): Failure {
  const json = borgJsonError(stderr);
  const id = json?.msgid ?? '';
  const text = `${id} ${json?.message ?? stderr}`;
  const line = firstLine(json?.message ?? stderr);
  if (/PassphraseWrong|passphrase supplied .* is incorrect|NoPassphraseFailure|PasscommandFailure/i.test(text)) {
    return {
      reason: 'auth',
      message: `borg cannot open ${repository}: wrong or missing passphrase (${line})`,
      hint: 'check passphrase / passphrase_file of this instance',
    };
  }
  if (/LockTimeout|LockFailed|LockError|Failed to create\/acquire the lock/i.test(text)) {
    return {
      reason: 'locked',
      message: `borg repository ${repository} is locked by another process (${line})`,
      hint: 'wait for the running borg; if its process is gone, run `borg break-lock`',
    };
  }
  if (/DoesNotExist|InvalidRepository|does not exist|is not a valid repository/i.test(text)) {
    return {
      reason: 'unreachable',
      message: `no borg repository at ${repository} (${line})`,
      hint: 'check the repository location and that its disk or host is reachable',
    };
  }
  if (/ConnectionClosed|Connection refused|Could not resolve hostname|ssh:|Remote: /i.test(text)) {
    return {
      reason: 'unreachable',
      message: `borg cannot reach ${repository} (${line})`,
      hint: 'check ssh access to the repository host',
    };
  }
  return { reason: 'other', message: `borg exited with code ${String(code)}: ${line || '(no message)'}` };
}

/** A repository location fit for a log line: no credentials from a URL. */
export function safeLocation(repository: string): string {
  return repository.replace(/\/\/([^/@]*)@/, '//<credentials>@');
}
