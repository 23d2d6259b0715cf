// Each server tells the runner its port over the IPC channel, so stdout stays free for logs
// (and, for cold-start.ts, whatever else it measured: smart-service's start-up phases).
export function reportPort(port: number, extra: Record<string, unknown> = {}): void {
  process.send?.({ ...extra, port });
}

// If the runner dies without killing us (SIGKILL, crash), the IPC channel closes: stop too.
process.on('disconnect', () => process.exit(0));
