import type { ESTree } from "meriyah";

export type Node = ESTree.Node;

/**
 * Visits every node in source order without recursion: a package can nest
 * code thousands of levels deep to overflow a recursive walker and crash
 * the scanner, so the walker keeps its own stack on the heap.
 */
export function walk(root: Node, visit: (node: Node) => void): void {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    visit(node);
    const first = stack.length;
    for (const key in node) {
      if (key === "loc" || key === "range" || key === "start" || key === "end") continue;
      const value = (node as unknown as Record<string, unknown>)[key];
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) stack.push(item);
      } else if (isNode(value)) {
        stack.push(value);
      }
    }
    // Children were pushed in source order; reverse them in place so the first pops first.
    for (let low = first, high = stack.length - 1; low < high; low++, high--) {
      const swap = stack[low]!;
      stack[low] = stack[high]!;
      stack[high] = swap;
    }
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}
