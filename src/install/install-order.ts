import type { LockedPackage } from "./lockfile.js";

/**
 * Resolves a dependency name from a package's location the way Node and npm
 * do: `<location>/node_modules/<name>`, then each enclosing `node_modules`,
 * then the project's.
 */
export function resolveDependency(
  packages: ReadonlyMap<string, LockedPackage>,
  from: string,
  name: string,
): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages.has(candidate)) return candidate;
    if (base === "") return undefined;
    const at = base.lastIndexOf("/node_modules/");
    base = at >= 0 ? base.slice(0, at) : "";
  }
}

/** Each location's resolved dependency locations (missing optional dependencies are skipped). */
export function dependencyEdges(packages: ReadonlyMap<string, LockedPackage>): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const [location, entry] of packages) {
    const targets = new Set<string>();
    for (const name of entry.dependencyNames) {
      const target = resolveDependency(packages, location, name);
      if (target !== undefined && target !== location) targets.add(target);
    }
    edges.set(location, [...targets].sort());
  }
  return edges;
}

/**
 * Every location, dependencies before the packages that depend on them.
 * Packages in a dependency cycle have no such order; they come together, by
 * location, so the result is the same on every run. Tarjan's algorithm,
 * written iteratively so a deep tree cannot overflow the stack: it completes
 * a strongly connected component only after every component it reaches.
 */
export function installOrder(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const order: string[] = [];
  let next = 0;
  const nodes = [...edges.keys()].sort();
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { node: string; child: number }[] = [{ node: start, child: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const children = edges.get(frame.node) ?? [];
      if (frame.child < children.length) {
        const child = children[frame.child++]!;
        if (!edges.has(child)) continue;
        if (!index.has(child)) {
          index.set(child, next);
          low.set(child, next++);
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        order.push(...component.sort());
      }
    }
  }
  return order;
}
