import { describe, expectTypeOf, it } from 'vitest';
import type {
  MockFault,
  MockFaultInput,
  MockFaultKind,
  MockGraph,
  MockWireEvent,
  NonMetaSuccessFault,
  RedirectFault,
  RejectEventsPredicate,
  RejectEventsRule,
  ShortAckFault,
} from '../src/index.js';

// Checked by `tsc` (npm run typecheck): the fault shapes users write in their tests.
describe('fault types', () => {
  it('accepts the new kinds and only their documented fields', () => {
    expectTypeOf<{ kind: 'non-meta-2xx'; body: 'truncated' }>().toExtend<MockFaultInput>();
    expectTypeOf<{ kind: 'short-ack'; eventsReceived: 3 }>().toExtend<MockFault>();
    expectTypeOf<{ kind: 'short-ack' }>().toExtend<ShortAckFault>();
    expectTypeOf<{ kind: 'redirect'; status: 302; location: string }>().toExtend<RedirectFault>();
    expectTypeOf<{ kind: 'redirect'; status: 304; location: string }>().not.toExtend<MockFault>();
    expectTypeOf<{ kind: 'redirect'; status: 302 }>().not.toExtend<MockFault>();
    expectTypeOf<{ kind: 'non-meta-2xx'; body: 'xml' }>().not.toExtend<MockFault>();
    expectTypeOf<NonMetaSuccessFault['body']>().toEqualTypeOf<
      'html' | 'empty' | 'truncated' | 'empty-object' | 'text'
    >();
    expectTypeOf<MockFaultKind>().toEqualTypeOf<
      'http' | 'graph' | 'latency' | 'hang' | 'reset' | 'non-meta-2xx' | 'short-ack' | 'redirect'
    >();
  });

  it('rejectEvents takes a predicate over the wire event and its index, and chains', () => {
    expectTypeOf<RejectEventsPredicate>().parameters.toEqualTypeOf<[MockWireEvent, number]>();
    expectTypeOf<MockGraph['rejectEvents']>().returns.toEqualTypeOf<MockGraph>();
    expectTypeOf<MockGraph['rejectEvents']>().toBeCallableWith();
    expectTypeOf<MockGraph['rejectEvents']>().toBeCallableWith(
      (event: MockWireEvent) => event.event_id === 'x',
      { field: 'custom_data.value' },
    );
    expectTypeOf<{ eventIdPrefix: 'bad-' }>().toExtend<RejectEventsRule>();
  });
});
