/**
 * The fixture families the demo and `results:merging` run on. v2 (default): experts fine-tuned on text the
 * base never saw, where merging helps (test/fixtures/tiny-llama-v2/README.md). v1: over-fitted experts of
 * the same base, kept as the "merging cannot help" control. Both share the base, the stranger and the texts.
 */
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';

export const DOMAINS = ['literature', 'code', 'math'] as const;
export type Domain = (typeof DOMAINS)[number];
export const FAMILIES = ['v1', 'v2'] as const;
export type FamilyName = (typeof FAMILIES)[number];

export interface DemoFamily {
  readonly name: FamilyName;
  readonly description: string;
  /** folders, absolute */
  readonly base: string;
  readonly stranger: string;
  readonly experts: readonly { readonly label: string; readonly domain: Domain; readonly path: string }[];
  readonly adapters: readonly string[];
  /** domain → validation text (windows 0–31 test, 32+ development) */
  readonly texts: Readonly<Record<Domain, string>>;
}

export function parseFamily(value: string): FamilyName {
  if ((FAMILIES as readonly string[]).includes(value)) return value as FamilyName;
  throw new ConfigError([{ path: ['--family'], message: `expected one of ${FAMILIES.join(', ')}, got '${value}'` }], {
    hint: 'v2 (default): experts merging can improve on; v1: over-fitted experts, the "merging cannot help" control',
  });
}

/** `fixtures` is the folder holding tiny-llama/, tiny-llama-v2/ and text/ (the bundled test/fixtures). */
export function demoFamily(fixtures: string, name: FamilyName): DemoFamily {
  const v1 = join(fixtures, 'tiny-llama');
  const home = name === 'v2' ? join(fixtures, 'tiny-llama-v2') : v1;
  return {
    name,
    description:
      name === 'v2'
        ? 'three experts fine-tuned on text the base never saw and early-stopped (tiny-llama-v2): each beats the base on its own domain'
        : 'three over-specialised experts trained past their best validation point (tiny-llama): each is worse than the base',
    base: join(v1, 'base'),
    stranger: join(v1, 'stranger'),
    experts: DOMAINS.map((domain) => ({ label: `expert-${domain}`, domain, path: join(home, `expert-${domain}`) })),
    adapters: DOMAINS.map((domain) => join(home, `lora-${domain}`)),
    texts: Object.fromEntries(DOMAINS.map((d) => [d, join(fixtures, 'text', `${d}.val.txt`)])) as Record<Domain, string>,
  };
}
