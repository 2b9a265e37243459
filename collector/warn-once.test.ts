import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../test/helpers/runner.js';
import { WarnOnce } from './warn-once.js';

describe('WarnOnce', () => {
  it('says each problem once, and stops remembering new ones past its bound', () => {
    const { log, lines } = memoryLogger();
    const once = new WarnOnce(log, 2);
    expect(once.warn('a', { problem: 'a' }, 'x')).toBe(true);
    expect(once.warn('a', { problem: 'a' }, 'x')).toBe(false);
    expect(once.warn('b', { problem: 'b' }, 'x')).toBe(true);
    expect(once.warn('c', { problem: 'c' }, 'x')).toBe(false);
    expect(lines.map((l) => l.problem)).toEqual(['a', 'b']);
  });
});
