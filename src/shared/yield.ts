// One macrotask hop, so messages queued behind a long computation (an abort from the UI, SIGINT)
// are delivered before the next piece of work starts.
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
