import { ConfigError } from '../../shared/runtime/config';

/** The ConfigError `fn` throws; anything else it throws, or no error, fails the test. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
