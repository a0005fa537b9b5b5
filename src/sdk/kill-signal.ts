import type { Signal } from "./child-process.js";

/** Called with each signal a KillController sends. */
export type KillSignalListener = (signal: Signal) => void;

interface KillSignalState {
  abortedCode: number | undefined;
  listeners: KillSignalListener[];
}

const CONSTRUCT = Symbol("KillSignal");

/**
 * The exit code a command "has" when its signal was aborted before it ran,
 * as `@deno/sandbox` counts it: these five end a command; others (SIGUSR1,
 * SIGHUP, ...) are only passed on.
 */
const ABORTING: Partial<Record<Signal, number>> = { SIGTERM: 143, SIGKILL: 137, SIGABRT: 134, SIGQUIT: 131, SIGINT: 130 };

/** Like an AbortController, for signals: `sandbox.sh\`…\`.signal(controller.signal)`, then `controller.kill("SIGINT")`. */
export class KillController {
  readonly #state: KillSignalState = { abortedCode: undefined, listeners: [] };
  readonly #signal = new KillSignal(CONSTRUCT, this.#state);

  get signal(): KillSignal {
    return this.#signal;
  }

  /** Sends `signal` (default SIGTERM) to every command started with this controller's signal. */
  kill(signal: Signal = "SIGTERM"): void {
    send(this.#state, signal);
  }
}

/** The receiving side of a KillController. Aborted once it has carried SIGTERM, SIGKILL, SIGABRT, SIGQUIT or SIGINT. */
export class KillSignal {
  readonly #state: KillSignalState;

  /** @internal Use `new KillController().signal`. */
  constructor(token: symbol, state: KillSignalState) {
    if (token !== CONSTRUCT) throw new TypeError("Make a KillSignal with `new KillController().signal`.");
    this.#state = state;
  }

  get aborted(): boolean {
    return this.#state.abortedCode !== undefined;
  }

  /** 128 + the aborting signal's number, once aborted. */
  get abortedExitCode(): number | undefined {
    return this.#state.abortedCode;
  }

  /** Passes every signal this one receives on to `child` as well. */
  linkChild(child: KillSignal): { unsubscribe(): void } {
    const listener: KillSignalListener = (signal) => send(child.#state, signal);
    this.addListener(listener);
    return { unsubscribe: () => this.removeListener(listener) };
  }

  addListener(listener: KillSignalListener): void {
    this.#state.listeners.push(listener);
  }

  removeListener(listener: KillSignalListener): void {
    const index = this.#state.listeners.indexOf(listener);
    if (index >= 0) this.#state.listeners.splice(index, 1);
  }

  /** A KillSignal that an AbortSignal's abort sends SIGTERM through. */
  static fromAbortSignal(abort: AbortSignal): KillSignal {
    const controller = new KillController();
    if (abort.aborted) controller.kill();
    else abort.addEventListener("abort", () => controller.kill(), { once: true });
    return controller.signal;
  }
}

function send(state: KillSignalState, signal: Signal): void {
  const code = ABORTING[signal];
  if (code !== undefined) state.abortedCode = code;
  for (const listener of [...state.listeners]) listener(signal);
}
