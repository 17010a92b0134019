// Interface names to kernel indexes, as NFQUEUE reports a packet's input and output interfaces,
// and their MTU.
// Read from sysfs (which `ip netns exec` mounts for the namespace); an interface that does not
// exist yet, or was re-created under a new index, is found again at the next refresh.
import { readFileSync } from 'node:fs';

/** An interface's index and MTU, or null when there is no such interface. */
export type InterfaceLookup = (name: string) => { index: number; mtu: number } | null;

function sysfsNumber(name: string, attribute: string): number | null {
  try {
    const n = Number(readFileSync(`/sys/class/net/${name}/${attribute}`, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export const sysfsInterface: InterfaceLookup = (name) => {
  const index = sysfsNumber(name, 'ifindex'), mtu = sysfsNumber(name, 'mtu');
  return index === null || mtu === null ? null : { index, mtu };
};

/** The MTU when no interface of a set is known. */
export const DEFAULT_MTU = 1500;

export class InterfaceSet {
  readonly names: readonly string[];
  #indexes = new Set<number>();
  #missing: string[] = [];
  /** the smallest MTU of the interfaces found */
  mtu = DEFAULT_MTU;
  readonly #lookup: InterfaceLookup;

  constructor(names: readonly string[], lookup: InterfaceLookup = sysfsInterface) {
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
    let mtu = Infinity;
    for (const name of this.names) {
      const found = this.#lookup(name);
      if (found === null) {
        missing.push(name);
      } else {
        indexes.add(found.index);
        mtu = Math.min(mtu, found.mtu);
      }
    }
    this.#indexes = indexes;
    this.#missing = missing;
    this.mtu = mtu === Infinity ? DEFAULT_MTU : mtu;
  }
}
