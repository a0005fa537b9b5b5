import { SandboxStore } from "../../sdk/store.js";
import { catalogCommand, formatBytes } from "./catalog-command.js";

const HELP = `Usage: cordon volume ls
       cordon volume create NAME
       cordon volume rm NAME...

Volumes are named folders that outlive sandboxes; mount one with
\`Sandbox.create({ volumes: { "/data": "NAME" } })\`. They live in
$CORDON_DATA_DIR (default: $XDG_DATA_HOME/cordon or ~/.local/share/cordon).
`;

/** `cordon volume ls|create|rm`. */
export function volumeCommand(argv: string[]): Promise<number> {
  const store = new SandboxStore();
  return catalogCommand({
    kind: "volume",
    help: HELP,
    headers: ["NAME", "SIZE", "CREATED"],
    list: async () => (await store.listVolumes()).map((v) => [v.name, formatBytes(v.sizeBytes), v.createdAt.toISOString()]),
    empty: () => `No volumes in ${store.volumesDir}.`,
    create: (name) => void store.createVolume(name),
    remove: (name) => store.deleteVolume(name),
  })(argv);
}
