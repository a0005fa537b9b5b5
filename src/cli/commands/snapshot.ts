import { SandboxStore } from "../../sdk/store.js";
import { catalogCommand, formatBytes } from "./catalog-command.js";

const HELP = `Usage: cordon snapshot ls
       cordon snapshot rm NAME...

Snapshots are read-only images of a sandbox's home, made with
\`await sandbox.snapshot("name")\` and started from with
\`Sandbox.create({ root: "name" })\`. They live in $CORDON_DATA_DIR
(default: $XDG_DATA_HOME/cordon or ~/.local/share/cordon).
`;

/** `cordon snapshot ls|rm`. */
export function snapshotCommand(argv: string[]): Promise<number> {
  const store = new SandboxStore();
  return catalogCommand({
    kind: "snapshot",
    help: HELP,
    headers: ["NAME", "SIZE", "CREATED", "FROM"],
    list: async () => (await store.listSnapshots()).map((s) => [s.name, formatBytes(s.sizeBytes), s.createdAt.toISOString(), s.fromSandbox ?? ""]),
    empty: () => `No snapshots in ${store.snapshotsDir}.`,
    remove: (name) => store.deleteSnapshot(name),
  })(argv);
}
