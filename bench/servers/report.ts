// Each server tells the runner its port over the IPC channel, so stdout stays free for logs.
export function reportPort(port: number): void {
  process.send?.({ port });
}

// If the runner dies without killing us (SIGKILL, crash), the IPC channel closes: stop too.
process.on('disconnect', () => process.exit(0));
