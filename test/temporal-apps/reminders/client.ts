// Starts a reminder loop, snoozes it (a refused update first), lets it run through a
// continue-as-new, then cancels a second loop and reports how it ended.
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { reminderLoop, sent, snooze } from './workflows';

async function main(): Promise<void> {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection });

  const handle = await client.workflow.start(reminderLoop, { taskQueue: 'reminders', workflowId: 'water-plants', args: ['water the plants', 10] });
  try {
    await handle.executeUpdate(snooze, { args: [-1] });
  } catch (err) {
    console.log(`refused: ${err instanceof WorkflowUpdateFailedError ? err.cause?.message : String(err)}`);
  }
  console.log(`snoozed by ${await handle.executeUpdate(snooze, { args: [5] })} ms`);
  console.log(`result: ${await handle.result()}`);
  console.log(`sent: ${await client.workflow.getHandle('water-plants').query(sent)}`);

  const stopping = await client.workflow.start(reminderLoop, { taskQueue: 'reminders', workflowId: 'stretch', args: ['stretch', 60_000] });
  await stopping.cancel();
  try {
    await stopping.result();
  } catch (err) {
    console.log(`cancelled: ${err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure}`);
  }
  const description = await stopping.describe();
  console.log(`status: ${description.status.name}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
