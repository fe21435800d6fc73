// The order workflow's tests, in the shape of a Temporal project's mocha tests (here node:test's
// describe/it, which need no extra package): a time-skipping environment, a worker per test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { approveOrder, placeOrder } from './workflows';
import * as activities from './activities';
import { stock } from './stock';

describe('placeOrder', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    env = await TestWorkflowEnvironment.createTimeSkipping();
  });

  after(async () => {
    await env?.teardown();
  });

  it('releases the stock when nobody approves within two days', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'orders-test',
      workflowsPath: require.resolve('./workflows'),
      activities,
    });
    const before = stock.get('teapot');
    const startedAt = await env.currentTimeMs();
    const result = await worker.runUntil(
      env.client.workflow.execute(placeOrder, {
        taskQueue: 'orders-test',
        workflowId: 'expiring',
        args: ['order-7', [{ sku: 'teapot', quantity: 2 }], 100],
      }),
    );
    assert.equal(result, 'order-7: expired, 1 line(s) released');
    assert.equal(stock.get('teapot'), before);
    assert.ok((await env.currentTimeMs()) - startedAt >= 2 * 24 * 3600 * 1000, 'the clock skipped two days');
    console.log('spec: expired');
  });

  it('charges and ships once approved, with the courier mocked', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'orders-test-2',
      workflowsPath: require.resolve('./workflows'),
      activities: { ...activities, bookCourier: async (orderId: string) => `mock label for ${orderId}` },
    });
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(placeOrder, {
        taskQueue: 'orders-test-2',
        workflowId: 'approved',
        args: ['order-8', [{ sku: 'kettle', quantity: 1 }], 999],
      });
      await env.sleep('1 hour');
      await handle.signal(approveOrder, 'sam');
      return handle.result();
    });
    assert.equal(result, 'order-8: approved by sam, charged 9.99 on attempt 1, mock label for order-8 (parent approved)');
    console.log('spec: approved');
  });
});
