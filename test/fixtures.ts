// Paths to the third-party fixtures in ../shared/fixtures (see each README there).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = process.env.FIXTURES_DIR ?? path.resolve(root, '../shared/fixtures');
export const fixture = (...parts: string[]): string => path.join(FIXTURES, ...parts);
