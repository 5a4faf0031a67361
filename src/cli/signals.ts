/**
 * Graceful stop on SIGINT/SIGTERM for the long-running commands (`server`, `demo`). The first signal starts the
 * stop. The same signal again within REPEAT_GRACE_MS is the same request delivered twice — `timeout`, and other
 * supervisors that signal a process and then its process group, do that — and is ignored, where Node's default
 * action would have killed the process in the middle of its stop. A signal after that forces the exit: a user who
 * presses Ctrl-C again does not want to wait.
 */
const REPEAT_GRACE_MS = 1000;

export function onStopSignal(stop: (signal: NodeJS.Signals) => void, force: () => void = () => process.exit(130)): () => void {
  let first: { signal: NodeJS.Signals; at: number } | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (first === null) {
      first = { signal, at: Date.now() };
      stop(signal);
      return;
    }
    if (signal === first.signal && Date.now() - first.at < REPEAT_GRACE_MS) return;
    process.stderr.write(`${signal} again: forced exit\n`);
    force();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
