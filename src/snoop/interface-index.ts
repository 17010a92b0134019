// Interface names to kernel indexes, as NFQUEUE reports a packet's input and output interfaces.
// Read from sysfs (which `ip netns exec` mounts for the namespace); an interface that does not
// exist yet, or was re-created under a new index, is found again at the next refresh.
import { readFileSync } from 'node:fs';

export type InterfaceIndex = (name: string) => number | null;

export const sysfsInterfaceIndex: InterfaceIndex = (name) => {
  try {
    const n = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
};

export class InterfaceSet {
  readonly names: readonly string[];
  #indexes = new Set<number>();
  #missing: string[] = [];
  readonly #lookup: InterfaceIndex;

  constructor(names: readonly string[], lookup: InterfaceIndex = sysfsInterfaceIndex) {
    this.names = names;
    this.#lookup = lookup;
    this.refresh();
  }

  has(index: number): boolean {
    return this.#indexes.has(index);
  }

  /** Names not found at the last refresh. */
  get missing(): readonly string[] {
    return this.#missing;
  }

  refresh(): void {
    const indexes = new Set<number>(), missing: string[] = [];
    for (const name of this.names) {
      const i = this.#lookup(name);
      if (i === null) missing.push(name);
      else indexes.add(i);
    }
    this.#indexes = indexes;
    this.#missing = missing;
  }
}
