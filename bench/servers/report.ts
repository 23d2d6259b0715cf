// Each server tells the runner its port over the IPC channel, so stdout stays free for logs.
export function reportPort(port: number): void {
  process.send?.({ port });
}
