// Embedding deja's replay engine behind your own storage and queues: you own the history; deja
// turns it into activations for the isolate and gives you the commands to carry out.
import { bundleWorkflowCode, IsolatePool, ReplayMachine, initFromStart, type Command, type HistoryEvent } from 'deja';

export async function nextCommands(workflowsPath: string, events: HistoryEvent[]): Promise<Command[]> {
  const bundle = await bundleWorkflowCode({ workflowsPath });
  const pool = new IsolatePool({ memoryLimitMb: 64, activationTimeoutMs: 1000 });
  try {
    const start = events[0];
    if (start.type !== 'workflowExecutionStarted') throw new Error('history must begin with workflowExecutionStarted');
    const execution = pool.createExecution(bundle, initFromStart(start), start.workflowId);
    // Completed tasks are replayed and checked; the last, open task runs live.
    const live = new ReplayMachine(execution).advance(events);
    if (!live) return [];
    if (!live.completion.ok) throw new Error(`workflow task failed: ${live.completion.failure.message}`);
    return live.completion.commands; // e.g. scheduleActivity, startTimer, completeWorkflow
  } finally {
    pool.dispose();
  }
}
