import { describe, expect, it } from 'vitest';
import { classifyBorg, classifyRestic, safeLocation } from './failures.js';

describe('restic failures', () => {
  it('maps restic >= 0.17 exit codes', () => {
    expect(classifyRestic(12, 'Fatal: wrong password or no key found\n', '/r').reason).toBe('auth');
    expect(classifyRestic(11, 'unable to create lock in backend\n', '/r').reason).toBe('locked');
    expect(classifyRestic(10, 'Fatal: repository does not exist\n', '/r').reason).toBe('unreachable');
  });

  it('maps restic 0.14 messages (exit code 1 for everything)', () => {
    const wrong = classifyRestic(1, 'Fatal: wrong password or no key found\n', '/srv/r');
    expect(wrong).toMatchObject({ reason: 'auth', hint: expect.stringMatching(/password_file/) });
    expect(wrong.message).toContain('/srv/r');
    const missing = classifyRestic(
      1,
      'Fatal: unable to open config file: stat /x/config: no such file or directory\nIs there a repository at the following location?\n/x\n',
      '/x',
    );
    expect(missing.reason).toBe('unreachable');
    expect(missing.message).toContain('Fatal: unable to open config file');
    const locked = classifyRestic(1, 'unable to create lock in backend: repository is already locked exclusively by PID 7 on nas\n', '/x');
    expect(locked.reason).toBe('locked');
    expect(classifyRestic(1, 'Fatal: dial tcp 10.0.0.2:8000: connect: connection refused\n', 'rest:http://x').reason).toBe('unreachable');
    expect(classifyRestic(1, 'Fatal: something new\n', '/x')).toEqual({ reason: 'other', message: 'restic exited with code 1: Fatal: something new' });
  });

  it('reads the JSON exit_error line of restic >= 0.17', () => {
    const stderr = '{"message_type":"exit_error","code":12,"message":"Fatal: wrong password or no key found"}\n';
    expect(classifyRestic(12, stderr, '/x')).toMatchObject({ reason: 'auth', message: expect.stringContaining('wrong password') });
  });
});

describe('borg failures', () => {
  it('maps --log-json msgids', () => {
    const line = (msgid: string, message: string) =>
      `${JSON.stringify({ type: 'log_message', levelname: 'ERROR', name: 'borg.archiver', msgid, message })}\n`;
    expect(classifyBorg(2, line('PassphraseWrong', 'passphrase supplied in BORG_PASSPHRASE is incorrect.'), '/b').reason).toBe('auth');
    expect(classifyBorg(2, line('Repository.DoesNotExist', 'Repository /b does not exist.'), '/b').reason).toBe('unreachable');
    expect(classifyBorg(2, line('LockTimeout', 'Failed to create/acquire the lock /b/lock.exclusive (timeout).'), '/b').reason).toBe('locked');
    expect(classifyBorg(2, 'Remote: ssh: Could not resolve hostname nas\n', 'ssh://nas/b').reason).toBe('unreachable');
    expect(classifyBorg(2, 'Something odd\n', '/b')).toEqual({ reason: 'other', message: 'borg exited with code 2: Something odd' });
  });
});

describe('repository locations in log lines', () => {
  it('hide credentials in URLs', () => {
    expect(safeLocation('rest:https://user:s3cret@nas:8000/repo')).toBe('rest:https://<credentials>@nas:8000/repo');
    expect(safeLocation('/srv/restic')).toBe('/srv/restic');
  });
});
