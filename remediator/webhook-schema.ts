/**
 * Alertmanager's webhook payload, version 4, as its notify/webhook documents it.
 * Strict where the remediator depends on a field, open elsewhere (Alertmanager may
 * add fields; refusing them would lose alerts).
 */
import { Type, type Static } from '@sinclair/typebox';

const LabelSet = Type.Record(Type.String(), Type.String());

export const AlertSchema = Type.Object({
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  labels: LabelSet,
  annotations: Type.Optional(LabelSet),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.Optional(Type.String()),
  generatorURL: Type.Optional(Type.String()),
  fingerprint: Type.String({ minLength: 1, maxLength: 64 }),
});

export const WebhookSchema = Type.Object({
  version: Type.Literal('4'),
  groupKey: Type.String(),
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  receiver: Type.String(),
  groupLabels: Type.Optional(LabelSet),
  commonLabels: Type.Optional(LabelSet),
  commonAnnotations: Type.Optional(LabelSet),
  externalURL: Type.Optional(Type.String()),
  alerts: Type.Array(AlertSchema, { maxItems: 1000 }),
});

export type WebhookAlert = Static<typeof AlertSchema>;
export type WebhookPayload = Static<typeof WebhookSchema>;
