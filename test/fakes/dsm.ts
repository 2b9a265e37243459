/**
 * FAKE Synology DSM Web API, for tests, from DSM's documented shapes (the Web API
 * developer guide's SYNO.API.Info and SYNO.API.Auth, error codes 400-407 and
 * 105/106/119) and the storage report's shape as DSM 6/7 return it (the field names
 * of exporters/nas/fixtures/dsm). It serves query.cgi and entry.cgi, keeps sessions,
 * and lets a test end them (a DSM restart), refuse logins or go silent.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface FakeDsm {
  readonly url: string;
  readonly stats: { logins: number; failedLogins: number; storageCalls: number; passwordsInUrls: number };
  /** Ends every session: the next call with an old sid gets error 119. */
  expireSessions(): void;
  setPassword(p: string): void;
  setStorage(answer: unknown): void;
  /** Stops answering (the NAS hangs) until called with false. */
  hang(on: boolean): void;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += (c as Buffer).toString('utf8');
  return s;
}

export async function startFakeDsm(options: { account: string; password: string; storage: unknown }): Promise<FakeDsm> {
  let password = options.password;
  let storage = options.storage;
  let hanging = false;
  const sessions = new Set<string>();
  const stats = { logins: 0, failedLogins: 0, storageCalls: 0, passwordsInUrls: 0 };
  let n = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (hanging) return; // never answers
      const url = new URL(req.url ?? '/', 'http://dsm');
      if (url.searchParams.has('passwd')) stats.passwordsInUrls += 1;
      const params = new URLSearchParams(url.search);
      if (req.method === 'POST') for (const [k, v] of new URLSearchParams(await body(req))) params.set(k, v);
      const send = (o: unknown) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(o));
      };
      const api = params.get('api');
      if (url.pathname === '/webapi/query.cgi' && api === 'SYNO.API.Info') {
        return send({
          success: true,
          data: {
            'SYNO.API.Auth': { maxVersion: 7, minVersion: 1, path: 'entry.cgi' },
            'SYNO.Storage.CGI.Storage': { maxVersion: 1, minVersion: 1, path: 'entry.cgi' },
          },
        });
      }
      if (url.pathname !== '/webapi/entry.cgi') {
        res.statusCode = 404;
        return res.end();
      }
      if (api === 'SYNO.API.Auth' && params.get('method') === 'login') {
        if (params.get('account') !== options.account || params.get('passwd') !== password) {
          stats.failedLogins += 1;
          return send({ success: false, error: { code: 400 } });
        }
        stats.logins += 1;
        const sid = `sid-${++n}`;
        sessions.add(sid);
        return send({ success: true, data: { sid, is_portal_port: false } });
      }
      if (api === 'SYNO.Storage.CGI.Storage' && params.get('method') === 'load_info') {
        stats.storageCalls += 1;
        if (!sessions.has(params.get('_sid') ?? '')) return send({ success: false, error: { code: 119 } });
        return send(storage);
      }
      return send({ success: false, error: { code: 102 } });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    expireSessions: () => sessions.clear(),
    setPassword: (p) => {
      password = p;
    },
    setStorage: (a) => {
      storage = a;
    },
    hang: (on) => {
      hanging = on;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
