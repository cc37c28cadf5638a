import { migratedState } from "./edge-server";

/**
 * Vitest global setup of the projects that start Workers: the migrated state every new edge
 * copies is made once here, before their files start side by side and would each make it.
 */
export default async function setup(): Promise<void> {
  await migratedState();
}
