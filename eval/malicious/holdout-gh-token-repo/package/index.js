throw new Error("cordon eval replica: inert data, never run");
export { Modal } from "./lib/modal.js";
