/** Reading files that may not exist yet (state files, journals, optional settings), and whether a pid file's process still runs. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** readTextIfExistsSync is the file's text, or undefined when it does not exist; any other error is thrown. */
export function readTextIfExistsSync(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** readTextIfExists is the file's text, or undefined when it does not exist; any other error is thrown. */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** processAlive tells whether process `pid` exists (signal 0); one of another user's (EPERM) exists too. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
