/**
 * FAKE exporter kinds for testing the host's contract (scheduling, isolation,
 * streams), not any real source. Never registered in collector/registry.ts.
 */
import { Type } from '@sinclair/typebox';
import { ExporterError, defineExporter, type InstanceContext, type Sample, type StreamSnapshot } from '../../collector/contract.js';

const metric = (name: string) => ({ name, type: 'gauge' as const, help: `Fake ${name}.`, labels: ['thing'] as const });

/** Behaviour selected per instance: ok, hang (ignores abort), throw, reject-non-error, bad-sample. */
export const fakePull = defineExporter<{ behaviour: string; value: number }>({
  name: 'fakepull',
  description: 'FAKE pull exporter for host tests.',
  schema: Type.Object({
    behaviour: Type.String(),
    value: Type.Optional(Type.Number({ default: 1 })),
  }),
  defaults: { interval: '1h', timeout: '1s' },
  metrics: [metric('homestation_fakepull_value')],
  create(_ctx, config) {
    return {
      mode: 'pull',
      collect: async (): Promise<Sample[]> => {
        switch (config.behaviour) {
          case 'hang':
            return new Promise(() => {}); // never settles, ignores the abort signal
          case 'throw':
            throw new ExporterError('unreachable', 'the fake peer is down', { hint: 'start the fake peer' });
          case 'reject-non-error':
            throw 'a string, not an Error';
          case 'bad-sample':
            return [
              { metric: 'homestation_fakepull_value', labels: { wrong: 'x' }, value: 1 },
              { metric: 'homestation_fakepull_value', labels: { thing: 'good' }, value: config.value },
            ];
          default:
            return [{ metric: 'homestation_fakepull_value', labels: { thing: 'a' }, value: config.value }];
        }
      },
    };
  },
});

/** A stream kind whose state tests drive through `fakeStreamControl`. */
export const fakeStreamControl = {
  started: 0,
  stopped: 0,
  snapshot: { up: true, samples: [] as Sample[] } as StreamSnapshot,
  failStart: false,
  /** The context the host gave the last instance: tests report through it. */
  ctx: undefined as InstanceContext | undefined,
};

export const fakeStream = defineExporter<Record<string, never>>({
  name: 'fakestream',
  description: 'FAKE stream exporter for host tests.',
  schema: Type.Object({}),
  defaults: { interval: '200ms', timeout: '1s' },
  metrics: [metric('homestation_fakestream_value')],
  create(ctx) {
    fakeStreamControl.ctx = ctx;
    return {
      mode: 'stream',
      start: async () => {
        if (fakeStreamControl.failStart) throw new ExporterError('auth', 'the fake broker refused us');
        fakeStreamControl.started += 1;
      },
      stop: async () => {
        fakeStreamControl.stopped += 1;
      },
      snapshot: () => fakeStreamControl.snapshot,
    };
  },
});
