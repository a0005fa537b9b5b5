/**
 * A minimal classic-BPF assembler for seccomp filters: instructions are
 * `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`, 8 bytes each, in
 * host byte order, which is what bubblewrap's `--seccomp FD` reads.
 * Jumps are written against labels and resolved to relative offsets here,
 * so the filter in filter.ts reads as a list of rules, not of offsets.
 */
const BPF_LD = 0x00, BPF_JMP = 0x05, BPF_RET = 0x06, BPF_ALU = 0x04;
const BPF_W = 0x00, BPF_ABS = 0x20;
const BPF_JEQ = 0x10, BPF_JGE = 0x30, BPF_JSET = 0x40, BPF_AND = 0x50;
const BPF_K = 0x00;

export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;

/** Offsets into `struct seccomp_data`. */
export const DATA_NR = 0;
export const DATA_ARCH = 4;
/** Low 32 bits of syscall argument `i` on a little-endian machine. */
export const dataArgLow = (i: number): number => 16 + 8 * i;

type Target = string | "next";
type Instruction =
  | { op: "ld"; offset: number }
  | { op: "and"; mask: number }
  | { op: "jeq" | "jge" | "jset"; k: number; whenTrue: Target; whenFalse: Target }
  | { op: "ret"; value: number }
  | { op: "label"; name: string };

export class BpfProgram {
  readonly #code: Instruction[] = [];

  load(offset: number): this {
    this.#code.push({ op: "ld", offset });
    return this;
  }
  and(mask: number): this {
    this.#code.push({ op: "and", mask });
    return this;
  }
  jump(op: "jeq" | "jge" | "jset", k: number, whenTrue: Target, whenFalse: Target = "next"): this {
    this.#code.push({ op, k, whenTrue, whenFalse });
    return this;
  }
  ret(value: number): this {
    this.#code.push({ op: "ret", value });
    return this;
  }
  label(name: string): this {
    this.#code.push({ op: "label", name });
    return this;
  }

  /** Resolves labels and encodes the program as bubblewrap expects it. */
  assemble(littleEndian = true): Buffer {
    const positions = new Map<string, number>();
    const real: Instruction[] = [];
    for (const ins of this.#code) {
      if (ins.op === "label") positions.set(ins.name, real.length);
      else real.push(ins);
    }
    if (real.length > 4096) throw new Error(`seccomp program too long (${real.length} instructions)`);
    const out = Buffer.alloc(real.length * 8);
    real.forEach((ins, index) => {
      const offsetTo = (target: Target): number => {
        if (target === "next") return 0;
        const at = positions.get(target);
        if (at === undefined) throw new Error(`seccomp label ${target} is not defined`);
        const delta = at - index - 1;
        if (delta < 0 || delta > 255) throw new Error(`seccomp jump to ${target} out of range`);
        return delta;
      };
      let code = 0, jt = 0, jf = 0, k = 0;
      switch (ins.op) {
        case "ld": code = BPF_LD | BPF_W | BPF_ABS; k = ins.offset; break;
        case "and": code = BPF_ALU | BPF_AND | BPF_K; k = ins.mask; break;
        case "ret": code = BPF_RET | BPF_K; k = ins.value; break;
        case "jeq": case "jge": case "jset": {
          const jop = ins.op === "jeq" ? BPF_JEQ : ins.op === "jge" ? BPF_JGE : BPF_JSET;
          code = BPF_JMP | jop | BPF_K; k = ins.k; jt = offsetTo(ins.whenTrue); jf = offsetTo(ins.whenFalse);
          break;
        }
        case "label": break;
      }
      const at = index * 8;
      if (littleEndian) { out.writeUInt16LE(code, at); out.writeUInt32LE(k >>> 0, at + 4); }
      else { out.writeUInt16BE(code, at); out.writeUInt32BE(k >>> 0, at + 4); }
      out.writeUInt8(jt, at + 2);
      out.writeUInt8(jf, at + 3);
    });
    return out;
  }
}
