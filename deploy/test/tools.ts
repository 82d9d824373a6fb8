/**
 * The system programs the deployment tests drive for real, and the rule for when they are missing: the tests are
 * skipped with a message on a developer's machine, but fail when REQUIRE_NGINX=1 (CI sets it, after installing them).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

export type Tool = 'nginx' | 'openssl' | 'envsubst' | 'docker-compose' | 'git';

/** Where Debian puts each tool's package, for the message. */
const PACKAGE: Record<Tool, string> = {
  nginx: 'nginx-light',
  openssl: 'openssl',
  envsubst: 'gettext-base',
  'docker-compose': 'docker-compose',
  git: 'git',
};

/** nginx lives in /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of an executable, or undefined. */
export function findTool(name: Tool): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const toolsRequired = process.env.REQUIRE_NGINX === '1';

export interface ToolGate {
  /** Paths of the tools that were found. */
  paths: Partial<Record<Tool, string>>;
  /** Why the suite cannot run here, or undefined when every tool is present. */
  missing: string | undefined;
  /** True when the suite should be skipped (tools missing and not required). */
  skip: boolean;
}

export function gate(tools: Tool[]): ToolGate {
  const paths: Partial<Record<Tool, string>> = {};
  const absent: Tool[] = [];
  for (const tool of tools) {
    const path = findTool(tool);
    if (path) paths[tool] = path;
    else absent.push(tool);
  }
  const missing =
    absent.length === 0
      ? undefined
      : `missing ${absent.join(', ')} (apt-get install ${absent.map((tool) => PACKAGE[tool]).join(' ')})`;
  if (missing && !toolsRequired) {
    process.stderr.write(`[deploy tests] skipped: ${missing}; set REQUIRE_NGINX=1 to make this a failure\n`);
  }
  return { paths, missing, skip: missing !== undefined && !toolsRequired };
}

/** For a beforeAll: with REQUIRE_NGINX=1 a missing tool fails the suite instead of skipping it. */
export function assertTools(toolGate: ToolGate): void {
  if (toolGate.missing) throw new Error(`REQUIRE_NGINX=1 but ${toolGate.missing}`);
}

export function requireTool(name: Tool): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} is not installed (apt-get install ${PACKAGE[name]})`);
  return path;
}
