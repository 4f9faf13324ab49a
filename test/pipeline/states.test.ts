import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ACTION_EVENTS,
  ACTION_STATUSES,
  EXECUTION_EVENTS,
  EXECUTION_STATUSES,
  hasEnded,
  IllegalTransitionError,
  isStoppedShort,
  STAGE_EVENTS,
  STAGE_STATUSES,
  transitionAction,
  transitionExecution,
  transitionStage,
} from '../../src/pipeline/states.ts';

/** Every legal move; every other (state, event) pair must throw. */
const EXECUTION = {
  'running succeed': 'succeeded',
  'running fail': 'failed',
  'running interrupt': 'interrupted',
  'running supersede': 'superseded',
  'running cancel': 'cancelled',
  'failed retry': 'running',
  'interrupted retry': 'running',
  'interrupted cancel': 'cancelled',
  'cancelled retry': 'running',
};

const STAGE = {
  'pending wait': 'waiting',
  'pending enter': 'running',
  'pending supersede': 'superseded',
  'waiting enter': 'running',
  'waiting reset': 'pending',
  'waiting supersede': 'superseded',
  'waiting cancel': 'cancelled',
  'running succeed': 'succeeded',
  'running fail': 'failed',
  'running interrupt': 'interrupted',
  'running supersede': 'superseded',
  'running cancel': 'cancelled',
  'failed retry': 'waiting',
  'interrupted retry': 'waiting',
  'interrupted cancel': 'cancelled',
  'cancelled retry': 'waiting',
};

const ACTION = {
  'pending start': 'running',
  'pending gate': 'awaiting_approval',
  'running succeed': 'succeeded',
  'running fail': 'failed',
  'running interrupt': 'interrupted',
  'running cancel': 'cancelled',
  'awaiting_approval succeed': 'succeeded',
  'awaiting_approval fail': 'failed',
  'awaiting_approval supersede': 'superseded',
  'awaiting_approval cancel': 'cancelled',
  'failed retry': 'pending',
  'interrupted retry': 'pending',
  'interrupted cancel': 'cancelled',
  'cancelled retry': 'pending',
  // An approval whose deploy is retried asks again.
  'succeeded retry': 'pending',
};

function checkTable(
  machine: string,
  statuses: readonly string[],
  events: readonly string[],
  expected: Record<string, string>,
  move: (from: never, event: never) => string,
): void {
  let legal = 0;
  for (const from of statuses) {
    for (const event of events) {
      const want = expected[`${from} ${event}`];
      if (want === undefined) {
        assert.throws(
          () => move(from as never, event as never),
          IllegalTransitionError,
          `${machine}: ${from} --${event}--> should be illegal`,
        );
      } else {
        assert.equal(move(from as never, event as never), want, `${machine}: ${from} --${event}-->`);
        legal++;
      }
    }
  }
  assert.equal(
    legal,
    Object.keys(expected).length,
    `${machine}: the table names a status or event that does not exist`,
  );
}

test('executions move exactly as the transition table says', () => {
  checkTable('execution', EXECUTION_STATUSES, EXECUTION_EVENTS, EXECUTION, transitionExecution);
});

test('stages move exactly as the transition table says', () => {
  checkTable('stage', STAGE_STATUSES, STAGE_EVENTS, STAGE, transitionStage);
});

test('actions move exactly as the transition table says', () => {
  checkTable('action', ACTION_STATUSES, ACTION_EVENTS, ACTION, transitionAction);
});

test('an illegal move says what was attempted', () => {
  assert.throws(() => transitionAction('succeeded', 'start'), /An action that is succeeded cannot start\./);
});

test('the stopped-short statuses are exactly those a retry starts from, in all three machines', () => {
  const retries = (move: () => unknown) => {
    try {
      move();
      return true;
    } catch (error) {
      if (error instanceof IllegalTransitionError) return false;
      throw error;
    }
  };
  for (const status of EXECUTION_STATUSES)
    assert.equal(
      retries(() => transitionExecution(status, 'retry')),
      isStoppedShort(status),
      `execution ${status}`,
    );
  for (const status of STAGE_STATUSES)
    assert.equal(
      retries(() => transitionStage(status, 'retry')),
      isStoppedShort(status),
      `stage ${status}`,
    );
  // And a succeeded action: an approval whose deploy runs again asks again.
  for (const status of ACTION_STATUSES)
    assert.equal(
      retries(() => transitionAction(status, 'retry')),
      isStoppedShort(status) || status === 'succeeded',
      `action ${status}`,
    );
});

test('an ended stage or action moves only by a retry (or, interrupted, by a cancel)', () => {
  for (const status of STAGE_STATUSES.filter(hasEnded)) {
    for (const event of STAGE_EVENTS.filter((e) => e !== 'retry' && !(status === 'interrupted' && e === 'cancel'))) {
      assert.throws(() => transitionStage(status, event), IllegalTransitionError, `stage ${status} ${event}`);
    }
  }
  for (const status of ACTION_STATUSES.filter(hasEnded)) {
    for (const event of ACTION_EVENTS.filter((e) => e !== 'retry' && !(status === 'interrupted' && e === 'cancel'))) {
      assert.throws(() => transitionAction(status, event), IllegalTransitionError, `action ${status} ${event}`);
    }
  }
});
