/**
 * Makes the object's alarm ring by `at`, never postponing one already set earlier (the audit
 * buffer's). One in the past is the alarm ringing right now, which is spent.
 */
export async function wakeBy(storage: DurableObjectStorage, at: number): Promise<void> {
  const current = await storage.getAlarm();
  if (current === null || current > at || current <= Date.now()) await storage.setAlarm(at);
}
