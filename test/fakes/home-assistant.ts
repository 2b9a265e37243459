/**
 * FAKE Home Assistant for the exporter's tests (HA itself cannot run here), built
 * from HA's documented REST and WebSocket protocol (developers.home-assistant.io
 * docs/api/websocket.md and rest.md; the examples are in
 * exporters/homeassistant/fixtures/ha-devdocs-api-examples.json):
 * - REST GET /api/ and /api/config with "Authorization: Bearer"; a bad token gets a
 *   plain-text "401: Unauthorized".
 * - WebSocket /api/websocket: auth_required on connect; auth -> auth_ok or
 *   auth_invalid and close; no auth within the auth window (10 s) -> close.
 * - Commands with strictly increasing ids, else {"code":"id_reuse"}; results as
 *   {"id","type":"result","success",...}; get_states, subscribe_events,
 *   config/{entity,device,area}_registry/list, config_entries/subscribe, ping -> pong.
 * - Events pushed to subscribers; several messages coalesced into one JSON array
 *   frame once the client asked for it ({"type":"supported_features","features":
 *   {"coalesce_messages":1}}, HA 2022.11+), and a server-initiated close.
 * - config/floor_registry/list (HA 2024.4+), config entries with reason and
 *   disabled_by; states with last_reported (HA 2024.3+), which moves without a
 *   state_changed event when a sensor reports the same value again.
 * - A stall: HA's event loop blocked, reading and answering nothing, the TCP
 *   connection still open.
 * - The four bluetooth subscriptions (homeassistant/components/bluetooth/
 *   websocket_api.py; shapes in shared/fixtures/ble, copied to
 *   exporters/bluetooth/fixtures): admin only (another user's token gets
 *   {"code":"unauthorized","message":"Unauthorized"}); each answers its result, then
 *   its initial events as HA does: scanner details as one {"add": [...]} (none when
 *   there are no scanners), one state event per scanner, the allocations as one list
 *   (none when empty), and the advert history as one {"add": [...]} (sent even when
 *   empty). Live: {"add"|"remove": [details]}, a state per change, a one-element
 *   allocation list per change, one {"add": [info]} per advert, {"remove":
 *   [{"address"}]} when HA declares a device gone. Not modelled: HA's filter that
 *   passes on only adverts whose data changed (the tests send what HA would pass).
 */
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AreaEntry, ConfigEntry, DeviceEntry, EntityEntry, FloorEntry, HaState } from '../../exporters/homeassistant/model.js';

/** habluetooth's HaScannerDetails as HA serialises it. */
export interface FakeScanner {
  source: string;
  connectable: boolean;
  name: string;
  adapter: string;
  scanner_type: string;
}
/** HA's serialize_service_info. */
export interface FakeAdvert {
  name: string;
  address: string;
  rssi: number;
  manufacturer_data: Record<string, string>;
  service_data: Record<string, string>;
  service_uuids: string[];
  source: string;
  connectable: boolean;
  time: number;
  tx_power: number | null;
  raw: string | null;
}
export interface FakeAllocation {
  source: string;
  slots: number;
  free: number;
  allocated: string[];
}

export interface FakeBluetooth {
  /** A scanner registers (an ESPHome proxy connects, an adapter appears), with its modes. */
  addScanner(details: FakeScanner, modes?: { current: string | null; requested: string | null }): void;
  removeScanner(source: string): void;
  setScannerState(source: string, current: string | null, requested: string | null): void;
  setAllocation(a: FakeAllocation): void;
  /** One advert as HA passes it on (it becomes the device's history). */
  advertise(info: FakeAdvert): void;
  /** HA declares the device gone. */
  disappear(address: string): void;
  /** Sends a raw event on a bluetooth subscription (malformed input). */
  sendRaw(type: string, event: unknown): void;
  readonly scanners: Map<string, { details: FakeScanner; current: string | null; requested: string | null }>;
  readonly allocations: Map<string, FakeAllocation>;
  readonly history: Map<string, FakeAdvert>;
}

export interface FakeHa {
  readonly url: string;
  readonly bluetooth: FakeBluetooth;
  states: HaState[];
  entities: EntityEntry[];
  devices: DeviceEntry[];
  areas: AreaEntry[];
  floors: FloorEntry[];
  configEntries: ConfigEntry[];
  /** Counters the tests read. */
  readonly stats: { authAttempts: number; authInvalid: number; connections: number; idReuse: number; commands: string[] };
  /** Coalesce for clients that ask (true by default, as HA does); false: an HA that does not know supported_features. */
  coalesce: boolean;
  /** Frames that carried more than one message. */
  readonly coalescedFrames: () => number;
  /** A sensor reports the same value again: last_reported moves, no event (HA's behaviour). */
  report(entityId: string, at?: Date): void;
  /** HA hangs for `ms`: nothing is read or answered meanwhile. */
  stall(ms: number): void;
  setState(state: HaState): void;
  removeState(entityId: string): void;
  renameEntity(from: string, to: string): void;
  setConfigEntryState(entryId: string, state: string): void;
  /** Closes every client connection from the server side. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startFakeHa(options: { token: string; version?: string; authWindowMs?: number; nonAdminToken?: string }): Promise<FakeHa> {
  const version = options.version ?? '2026.9.2';
  type Client = { ws: WebSocket; subs: Map<string, number>; lastId: number; coalescing: boolean; stalled: boolean; admin: boolean };
  const clients = new Set<Client>();
  const bt = { scanners: new Map<string, { details: FakeScanner; current: string | null; requested: string | null }>(), allocations: new Map<string, FakeAllocation>(), history: new Map<string, FakeAdvert>() };
  const btSend = (type: string, event: unknown) => {
    for (const c of clients) {
      const id = c.subs.get(type);
      if (id !== undefined) send(c.ws, [{ id, type: 'event', event }]);
    }
  };
  const stateEvent = (source: string) => {
    const s = bt.scanners.get(source);
    return s && { source, adapter: s.details.adapter, current_mode: s.current, requested_mode: s.requested };
  };
  const bluetooth: FakeBluetooth = {
    ...bt,
    addScanner(details, modes = { current: 'passive', requested: 'passive' }) {
      bt.scanners.set(details.source, { details, current: modes.current, requested: modes.requested });
      btSend('bluetooth/subscribe_scanner_details', { add: [details] });
      btSend('bluetooth/subscribe_scanner_state', stateEvent(details.source));
    },
    removeScanner(source) {
      const s = bt.scanners.get(source);
      if (!s) return;
      bt.scanners.delete(source);
      bt.allocations.delete(source);
      btSend('bluetooth/subscribe_scanner_details', { remove: [s.details] });
    },
    setScannerState(source, current, requested) {
      const s = bt.scanners.get(source);
      if (!s) throw new Error(`no scanner ${source}`);
      s.current = current;
      s.requested = requested;
      btSend('bluetooth/subscribe_scanner_state', stateEvent(source));
    },
    setAllocation(a) {
      bt.allocations.set(a.source, a);
      btSend('bluetooth/subscribe_connection_allocations', [a]);
    },
    advertise(info) {
      bt.history.set(info.address, info);
      btSend('bluetooth/subscribe_advertisements', { add: [info] });
    },
    disappear(address) {
      bt.history.delete(address);
      btSend('bluetooth/subscribe_advertisements', { remove: [{ address }] });
    },
    sendRaw: (type, event) => btSend(type, event),
  };
  const http: Server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('401: Unauthorized');
      return;
    }
    if (req.url === '/api/') res.writeHead(200, { 'content-type': 'application/json' }).end('{"message":"API running."}');
    else if (req.url === '/api/config') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version, location_name: 'Home', state: 'RUNNING' }));
    else res.writeHead(404).end('404: Not Found');
  });
  const wss = new WebSocketServer({ server: http, path: '/api/websocket' });
  const fake: FakeHa = {
    url: '',
    bluetooth,
    states: [],
    entities: [],
    devices: [],
    areas: [],
    floors: [],
    configEntries: [],
    stats: { authAttempts: 0, authInvalid: 0, connections: 0, idReuse: 0, commands: [] },
    coalesce: true,
    coalescedFrames: () => coalesced,
    report(entityId, at = new Date()) {
      fake.states = fake.states.map((s) => (s.entity_id === entityId ? { ...s, last_reported: at.toISOString() } : s));
    },
    stall(ms) {
      for (const c of clients) {
        c.ws.pause();
        c.stalled = true;
        setTimeout(() => {
          c.stalled = false;
          c.ws.resume();
        }, ms);
      }
    },
    setState(state) {
      const old = fake.states.find((s) => s.entity_id === state.entity_id) ?? null;
      fake.states = [...fake.states.filter((s) => s.entity_id !== state.entity_id), state];
      broadcast('state_changed', { entity_id: state.entity_id, old_state: old, new_state: state });
    },
    removeState(entityId) {
      const old = fake.states.find((s) => s.entity_id === entityId) ?? null;
      fake.states = fake.states.filter((s) => s.entity_id !== entityId);
      broadcast('state_changed', { entity_id: entityId, old_state: old, new_state: null });
    },
    renameEntity(from, to) {
      fake.entities = fake.entities.map((e) => (e.entity_id === from ? { ...e, entity_id: to } : e));
      const st = fake.states.find((s) => s.entity_id === from);
      fake.states = fake.states.filter((s) => s.entity_id !== from);
      broadcast('entity_registry_updated', { action: 'update', entity_id: to, old_entity_id: from, changes: { entity_id: from } });
      if (st) fake.setState({ ...st, entity_id: to });
    },
    setConfigEntryState(entryId, state) {
      fake.configEntries = fake.configEntries.map((e) => (e.entry_id === entryId ? { ...e, state } : e));
      const entry = fake.configEntries.find((e) => e.entry_id === entryId);
      for (const c of clients) {
        const id = c.subs.get('config_entries');
        if (id !== undefined) send(c.ws, [{ id, type: 'event', event: [{ type: 'updated', entry }] }]);
      }
    },
    dropConnections() {
      for (const c of clients) c.ws.close(1001, 'going away');
    },
    close: () =>
      new Promise((r) => {
        for (const c of clients) c.ws.terminate();
        wss.close();
        http.close(() => r());
      }),
  };

  let coalesced = 0;
  const send = (ws: WebSocket, messages: unknown[]) => {
    const client = [...clients].find((c) => c.ws === ws);
    if (client?.stalled) return;
    if (client?.coalescing && messages.length > 1) {
      coalesced += 1;
      ws.send(JSON.stringify(messages));
    } else for (const m of messages) ws.send(JSON.stringify(m));
  };
  function broadcast(eventType: string, data: unknown): void {
    for (const c of clients) {
      const id = c.subs.get(eventType);
      if (id !== undefined) {
        send(c.ws, [{ id, type: 'event', event: { event_type: eventType, data, origin: 'LOCAL', time_fired: new Date().toISOString() } }]);
      }
    }
  }

  wss.on('connection', (ws) => {
    fake.stats.connections += 1;
    const client: Client = { ws, subs: new Map<string, number>(), lastId: 0, coalescing: false, stalled: false, admin: false };
    let authed = false;
    const window = setTimeout(() => {
      if (!authed) ws.close();
    }, options.authWindowMs ?? 10_000);
    ws.send(JSON.stringify({ type: 'auth_required', ha_version: version }));
    ws.on('close', () => {
      clearTimeout(window);
      clients.delete(client);
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { id?: number; type: string; access_token?: string; event_type?: string };
      if (!authed) {
        if (msg.type !== 'auth') return ws.close();
        fake.stats.authAttempts += 1;
        client.admin = msg.access_token === options.token;
        if (msg.access_token !== options.token && (options.nonAdminToken === undefined || msg.access_token !== options.nonAdminToken)) {
          fake.stats.authInvalid += 1;
          ws.send(JSON.stringify({ type: 'auth_invalid', message: 'Invalid access token or password' }));
          return ws.close();
        }
        authed = true;
        clearTimeout(window);
        clients.add(client);
        return ws.send(JSON.stringify({ type: 'auth_ok', ha_version: version }));
      }
      const id = msg.id ?? 0;
      if (id <= client.lastId) {
        fake.stats.idReuse += 1;
        return ws.send(JSON.stringify({ id, type: 'result', success: false, error: { code: 'id_reuse', message: 'Identifier values have to increase.' } }));
      }
      client.lastId = id;
      fake.stats.commands.push(msg.type);
      const ok = (result: unknown) => send(ws, [{ id, type: 'result', success: true, result }]);
      switch (msg.type) {
        case 'ping':
          return ws.send(JSON.stringify({ id, type: 'pong' }));
        case 'get_states':
          return ok(fake.states);
        case 'subscribe_events':
          client.subs.set(msg.event_type ?? '*', id);
          return ok(null);
        case 'config_entries/subscribe':
          client.subs.set('config_entries', id);
          // The result and the first event leave together: one frame when coalescing.
          return send(ws, [
            { id, type: 'result', success: true, result: null },
            { id, type: 'event', event: fake.configEntries.map((entry) => ({ type: null, entry })) },
          ]);
        case 'config/entity_registry/list':
          return ok(fake.entities);
        case 'config/device_registry/list':
          return ok(fake.devices);
        case 'config/area_registry/list':
          return ok(fake.areas);
        case 'config/floor_registry/list':
          return ok(fake.floors);
        case 'bluetooth/subscribe_scanner_details':
        case 'bluetooth/subscribe_scanner_state':
        case 'bluetooth/subscribe_connection_allocations':
        case 'bluetooth/subscribe_advertisements': {
          // @websocket_api.require_admin: HA raises Unauthorized, sent as this error.
          if (!client.admin) return send(ws, [{ id, type: 'result', success: false, error: { code: 'unauthorized', message: 'Unauthorized' } }]);
          client.subs.set(msg.type, id);
          const initial: unknown[] = [];
          const ev = (event: unknown) => initial.push({ id, type: 'event', event });
          if (msg.type === 'bluetooth/subscribe_scanner_details' && bt.scanners.size) ev({ add: [...bt.scanners.values()].map((s) => s.details) });
          if (msg.type === 'bluetooth/subscribe_scanner_state') for (const source of bt.scanners.keys()) ev(stateEvent(source));
          if (msg.type === 'bluetooth/subscribe_connection_allocations' && bt.allocations.size) ev([...bt.allocations.values()]);
          if (msg.type === 'bluetooth/subscribe_advertisements') ev({ add: [...bt.history.values()] });
          return send(ws, [{ id, type: 'result', success: true, result: null }, ...initial]);
        }
        case 'supported_features':
          if (!fake.coalesce) break;
          client.coalescing = (msg as { features?: { coalesce_messages?: number } }).features?.coalesce_messages === 1;
          return ok(null);
        default:
      }
      return send(ws, [{ id, type: 'result', success: false, error: { code: 'unknown_command', message: 'Unknown command.' } }]);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  (fake as { url: string }).url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  return fake;
}
