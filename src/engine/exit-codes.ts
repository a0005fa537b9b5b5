/**
 * Exit statuses of `cordon run` that are cordon's own rather than the
 * command's. Anything else is the command's own exit code, or 128+N when it
 * died of signal N (the shell's convention).
 */
export const EXIT_OUTPUT_LIMIT = 122;
export const EXIT_MEMORY_LIMIT = 123;
export const EXIT_TIMEOUT = 124;
export const EXIT_SANDBOX_FAILED = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;
