// layer: cli (composition only)
// job: options shared by several commands.
import { Option } from 'commander';

/** `-n, --netns <name>`: run the command against another network namespace. */
export function netnsOption(): Option {
  return new Option('-n, --netns <name>', 'network namespace (name under /var/run/netns, or a path)');
}
