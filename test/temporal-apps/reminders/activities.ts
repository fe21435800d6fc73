// Reminder side effects: they print, so the test can see them.
export async function remind(topic: string, n: number): Promise<number> {
  console.log(`reminder ${n}: ${topic}`);
  return n;
}

export async function closeReminders(topic: string, count: number): Promise<void> {
  console.log(`closed ${topic} after ${count}`);
}
