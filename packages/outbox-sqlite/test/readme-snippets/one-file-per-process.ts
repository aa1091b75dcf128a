import cluster from 'node:cluster';
import { sqliteOutbox } from '@capi-kit/outbox-sqlite';

sqliteOutbox({ path: `./var/capi-outbox-${process.env.pm_id ?? cluster.worker?.id ?? 0}.db` });
