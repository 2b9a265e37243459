/**
 * Pure: Mosquitto's $SYS topics (retained text values, some with units, some with
 * spaces in the topic) to samples. Unknown topics are ignored, not errors: each
 * broker version publishes a few of its own.
 */
import { M } from '../metrics.js';

export interface SysValue {
  readonly metric: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

const DIRECT: Record<string, string> = {
  '$SYS/broker/clients/connected': M.clients,
  '$SYS/broker/messages/received': M.msgsReceived,
  '$SYS/broker/messages/sent': M.msgsSent,
  '$SYS/broker/bytes/received': M.bytesReceived,
  '$SYS/broker/bytes/sent': M.bytesSent,
  '$SYS/broker/publish/messages/dropped': M.dropped,
  '$SYS/broker/retained messages/count': M.retained,
  '$SYS/broker/subscriptions/count': M.subscriptions,
  '$SYS/broker/uptime': M.uptime,
};

/** "24 seconds" and "1234" alike; undefined for anything else. */
export function sysNumber(payload: string): number | undefined {
  const m = /^\s*(-?\d+(?:\.\d+)?)(?:\s+seconds?)?\s*$/.exec(payload);
  return m ? Number(m[1]) : undefined;
}

/** The sample a $SYS message stands for, or undefined when it is not one we export. */
export function parseSys(topic: string, payload: string): SysValue | undefined {
  const metric = DIRECT[topic];
  if (metric) {
    const value = sysNumber(payload);
    return value === undefined ? undefined : { metric, value };
  }
  const bridge = /^\$SYS\/broker\/connection\/(.+)\/state$/.exec(topic);
  if (bridge && (payload === '0' || payload === '1')) {
    return { metric: M.bridge, labels: { bridge: bridge[1] as string }, value: Number(payload) };
  }
  return undefined;
}
