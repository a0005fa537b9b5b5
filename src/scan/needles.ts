/**
 * Finds which of many literal strings occur in a byte buffer, in one pass
 * (Aho–Corasick compiled to a table-driven automaton). The pre-filter runs
 * over every byte of every JavaScript file in a tree; V8's regular
 * expressions slow down with each alternative they hold, this does not,
 * and it works on the bytes as read, so a file that matters to no rule is
 * never even decoded into a string.
 */
export class NeedleSet<Group extends string> {
  readonly #delta: Uint16Array | Uint32Array;
  readonly #output: Uint32Array;
  readonly #bits: Record<Group, number>;

  /** At most 32 groups; each needle ASCII. */
  constructor(groups: Record<Group, readonly string[]>) {
    const names = Object.keys(groups) as Group[];
    if (names.length > 32) throw new RangeError("NeedleSet holds at most 32 groups");
    this.#bits = Object.fromEntries(names.map((name, i) => [name, 1 << i])) as Record<Group, number>;
    const trie = buildTrie(names.map((name) => ({ bit: this.#bits[name], words: groups[name] })));
    ({ delta: this.#delta, output: this.#output } = compile(trie));
  }

  bit(group: Group): number {
    return this.#bits[group];
  }

  /** The groups (as bits) with a needle in `bytes`. */
  scan(bytes: Uint8Array): number {
    const delta = this.#delta;
    const output = this.#output;
    let state = 0;
    let found = 0;
    for (let i = 0; i < bytes.length; i++) {
      state = delta[(state << 8) | bytes[i]!]!;
      const hit = output[state]!;
      if (hit !== 0) found |= hit;
    }
    return found;
  }
}

interface Trie {
  next: Array<Map<number, number>>;
  output: number[];
}

function buildTrie(groups: Array<{ bit: number; words: readonly string[] }>): Trie {
  const trie: Trie = { next: [new Map()], output: [0] };
  for (const { bit, words } of groups) {
    for (const word of words) {
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const byte = word.charCodeAt(i);
        if (byte > 0x7f) throw new RangeError(`needle "${word}" is not ASCII`);
        let target = trie.next[state]!.get(byte);
        if (target === undefined) {
          target = trie.next.length;
          trie.next.push(new Map());
          trie.output.push(0);
          trie.next[state]!.set(byte, target);
        }
        state = target;
      }
      trie.output[state]! |= bit;
    }
  }
  return trie;
}

/** Failure links by breadth-first search, folded into a full transition table. */
function compile(trie: Trie): { delta: Uint16Array | Uint32Array; output: Uint32Array } {
  const states = trie.next.length;
  const delta = states < 0x10000 ? new Uint16Array(states * 256) : new Uint32Array(states * 256);
  const output = Uint32Array.from(trie.output);
  const order: number[] = [];
  for (let byte = 0; byte < 256; byte++) {
    const child = trie.next[0]!.get(byte) ?? 0;
    delta[byte] = child;
    if (child !== 0) order.push(child);
  }
  const fail = new Uint32Array(states);
  for (let head = 0; head < order.length; head++) {
    const state = order[head]!;
    output[state]! |= output[fail[state]!]!;
    for (let byte = 0; byte < 256; byte++) {
      const child = trie.next[state]!.get(byte);
      if (child === undefined) {
        delta[(state << 8) | byte] = delta[(fail[state]! << 8) | byte]!;
      } else {
        fail[child] = delta[(fail[state]! << 8) | byte]!;
        delta[(state << 8) | byte] = child;
        order.push(child);
      }
    }
  }
  return { delta, output };
}
