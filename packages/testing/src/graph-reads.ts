import {
  computeDatasetQuality,
  DATASET_QUALITY_FIELDS,
  type DatasetQualityEvent,
  selectedWebFields,
} from './dataset-quality.js';
import { type GraphErrorAnswer, graphErrorAnswer } from './graph-error.js';
import type { MockEvent } from './recorder.js';

// The read routes `capi-kit doctor` uses, answered the way Graph answers them:
// GET /{version}/me, GET /{version}/{pixelId}, GET /{version}/dataset_quality.

/** A GET route the mock serves besides the events edge. */
export type GraphReadRoute =
  | { kind: 'me'; version: string }
  | { kind: 'dataset_quality'; version: string }
  | { kind: 'pixel'; version: string; pixelId: string };

/** The identity `/me` answers with (a system user). */
export const MOCK_USER = { id: '100000000000001', name: 'capi-kit mock system user' } as const;

const READ_PATH = /^\/(v\d+\.\d)\/([^/]+)\/?$/;
const PIXEL_ID = /^\d+$/;

/** The read route of a path, or undefined (the path is the events edge or unknown). */
export const matchReadRoute = (pathname: string): GraphReadRoute | undefined => {
  const match = READ_PATH.exec(pathname);
  if (!match) return undefined;
  const version = match[1] as string;
  const node = match[2] as string;
  if (node === 'me') return { kind: 'me', version };
  if (node === 'dataset_quality') return { kind: 'dataset_quality', version };
  return { kind: 'pixel', version, pixelId: node };
};

/** What a read is answered from. */
export interface ReadState {
  events: (filter: { pixelId: string }) => MockEvent[];
  datasetQuality: (pixelId: string) => DatasetQualityEvent[] | undefined;
}

/** A read answer: 200 with a JSON value, or a Graph error. */
export type ReadAnswer = { status: 200; value: unknown } | { status: 0; error: GraphErrorAnswer };

const PIXEL_FIELDS = ['id', 'name', 'last_fired_time', 'creation_time', 'is_unavailable'];
const USER_FIELDS = ['id', 'name'];

const nonexistingField = (field: string, nodeType: string): ReadAnswer => ({
  status: 0,
  error: graphErrorAnswer(400, {
    message: `(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})`,
    type: 'OAuthException',
    code: 100,
    is_transient: false,
  }),
});

const missingObject = (id: string): ReadAnswer => ({
  status: 0,
  error: graphErrorAnswer(400, {
    message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    type: 'GraphMethodException',
    code: 100,
    error_subcode: 33,
    is_transient: false,
  }),
});

/** Graph's datetime format, e.g. `2026-09-12T10:00:00+0000`. */
const graphTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');

const pick = (
  value: Record<string, unknown>,
  fields: string | null,
  known: readonly string[],
  fallback: readonly string[],
  nodeType: string,
): ReadAnswer => {
  const wanted = fields
    ? fields
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : fallback;
  const out: Record<string, unknown> = {};
  for (const field of wanted) {
    if (!known.includes(field)) return nonexistingField(field, nodeType);
    if (value[field] !== undefined) out[field] = value[field];
  }
  return { status: 200, value: out };
};

/** Answers a read route once the credentials passed. */
export const answerRead = (
  route: GraphReadRoute,
  query: URLSearchParams,
  state: ReadState,
): ReadAnswer => {
  if (route.kind === 'me') {
    return pick({ ...MOCK_USER }, query.get('fields'), USER_FIELDS, USER_FIELDS, 'User');
  }
  if (route.kind === 'pixel') {
    if (!PIXEL_ID.test(route.pixelId)) return missingObject(route.pixelId);
    const events = state.events({ pixelId: route.pixelId });
    const last = events.at(-1);
    const first = events[0];
    return pick(
      {
        id: route.pixelId,
        name: `capi-kit mock pixel ${route.pixelId}`,
        is_unavailable: false,
        ...(last ? { last_fired_time: graphTime(last.receivedAt) } : {}),
        ...(first ? { creation_time: graphTime(first.receivedAt) } : {}),
      },
      query.get('fields'),
      PIXEL_FIELDS,
      ['id', 'name'],
      'AdsPixel',
    );
  }
  const datasetId = query.get('dataset_id');
  if (!datasetId) {
    return {
      status: 0,
      error: graphErrorAnswer(400, {
        message: '(#100) The parameter dataset_id is required',
        type: 'OAuthException',
        code: 100,
        is_transient: false,
      }),
    };
  }
  if (!PIXEL_ID.test(datasetId)) return missingObject(datasetId);
  const selected = selectedWebFields(query.get('fields'));
  for (const field of selected ?? []) {
    if (!(DATASET_QUALITY_FIELDS as readonly string[]).includes(field)) {
      return nonexistingField(field, 'AdsPixelCAPIIntegrationQuality');
    }
  }
  const web =
    state.datasetQuality(datasetId) ?? computeDatasetQuality(state.events({ pixelId: datasetId }));
  const filtered = web.map((entry) => {
    if (!selected) return entry;
    const out: Record<string, unknown> = { event_name: entry.event_name };
    for (const field of selected) {
      const value = (entry as unknown as Record<string, unknown>)[field];
      if (value !== undefined) out[field] = value;
    }
    return out;
  });
  return { status: 200, value: { web: filtered } };
};
