/** Where a placeholder was seen going to a host its secret is not bound to. */
export type SecretPlace = "url" | "header" | "body" | "host name";

export type SecretEvent =
  /** A secret's real value was put into a request to one of its own hosts. */
  | { type: "secret-injected"; name: string; host: string; count: number }
  /** A placeholder was seen going somewhere its secret is not bound to. */
  | { type: "secret-exfiltration"; name: string; host: string; where: SecretPlace }
  /** The real server's certificate did not verify: nothing was sent. */
  | { type: "upstream-certificate"; host: string; reason: string }
  /**
   * A request inside an intercepted tunnel, or its answer, was refused
   * (a request naming another site, too many pipelined requests, an answer
   * in an encoding cordon cannot read to mask). `reason` is safe to print:
   * sandbox text in it is escaped, real values in it are masked.
   */
  | { type: "exchange-refused"; host: string; reason: string };
