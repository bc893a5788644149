/**
 * Used by test/integration/consumer/moto.test.ts: starts moto, prints its pid,
 * then dies without calling stop(), by the signal or exit code given in argv.
 */
import { startMoto } from '../../../../local/moto';

async function main(): Promise<void> {
  const how = process.argv[2] ?? 'exit';
  const moto = await startMoto();
  process.stdout.write(`${moto.pid}\n`);
  if (how === 'SIGKILL') process.kill(process.pid, 'SIGKILL');
  else process.exit(3);
}

void main();
