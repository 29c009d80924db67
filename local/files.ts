/** Reading files that may not exist yet (state files, journals, optional settings). */
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
