import { existsSync } from 'node:fs';
import path from 'node:path';

let root: string | undefined;

/**
 * The package's root directory (the one holding package.json), found by walking up from this
 * file: the same answer whether the code runs from `src/` (tsx, tests) or from the bundle in
 * `dist/`, where the module's own directory is a different depth below the root.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return (root = dir);
}

/** A path inside the package (migrations, the built web app, the demo's list files). */
export function packagePath(...segments: string[]): string {
  return path.join(packageRoot(), ...segments);
}
