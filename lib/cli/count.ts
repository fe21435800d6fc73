/**
 * `deja count` (host side): how many workflow runs match a list filter, through a WorkflowClient.
 */
import { parse, positionalsOf, stringFlag, type Out } from './common';
import { queryUsage, withClient } from './operate';

export const COUNT_HELP = `Usage: deja count [--query <filter>]

Prints how many workflow runs match Temporal's list filter (every run without one).

  --query <filter>           such as "WorkflowType = 'order' AND ExecutionStatus = 'Running'"
                             (no ORDER BY: a count has no order)
  --backend <backend>        as for "deja start"
  --json                     print {"count": n}

Exit status: 0 counted (even none), 2 bad usage (a filter the parser does not accept).`;

export async function countCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('count', args, { backend: { type: 'string' }, json: { type: 'boolean' }, query: { type: 'string' } });
  if (values.help) {
    out.log(COUNT_HELP);
    return 0;
  }
  positionalsOf('count', positionals, []);
  const query = stringFlag(values, 'query');
  return withClient('count', values, async (client) => {
    let count: number;
    try {
      ({ count } = await client.count(query));
    } catch (error) {
      throw queryUsage('count', error);
    }
    out.log(values.json ? JSON.stringify({ count }) : String(count));
    return 0;
  });
}
