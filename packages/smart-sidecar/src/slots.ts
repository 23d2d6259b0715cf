import type { ServerState } from './haproxy-cli.ts';
import { backendName, slotName } from './render.ts';
import type { Target } from './screen.ts';

/** What it takes to bring a backend's slots in line with the registry. */
export interface SlotPlan {
  /** Runtime API commands, in order (each slot's own commands stay in order). */
  readonly commands: readonly string[];
  /** The slots once the commands are applied. */
  readonly slots: readonly (Target | undefined)[];
  /** Servers whose address or state the commands change. */
  readonly changed: number;
  /** Instances that found no free slot: the backend needs more (a reload). */
  readonly overflow: readonly Target[];
}

const sameEndpoint = (a: Target, b: Target) => a.address === b.address && a.port === b.port;

/**
 * Fits the wanted instances into a backend's slots with the fewest changes:
 * an instance keeps its slot (a new address is `set server ... addr` on
 * it), a slot whose instance is gone goes to maintenance (requests in
 * flight on it finish; no new ones), and a new instance takes a free slot
 * (`addr`, then `state ready`), preferring slots free before this plan, so
 * a slot just left is not reused at once. Pure.
 *
 * @example
 * const plan = planSlots('users', haproxySlots, wanted);
 * await haproxy.runtime(plan.commands);
 */
export function planSlots(
  service: string,
  current: readonly (Target | undefined)[],
  wanted: readonly Target[],
): SlotPlan {
  const server = (index: number) => `${backendName(service)}/${slotName(index)}`;
  const slots = [...current];
  const commands: string[] = [];
  let changed = 0;
  const wantedById = new Map(wanted.map((target) => [target.id, target]));
  const placed = new Set<string>();
  const unmatched: number[] = [];
  const freeBefore: number[] = [];
  const freed: number[] = [];

  // An instance keeps its slot; a new address is set on it.
  slots.forEach((slot, index) => {
    const target = slot && wantedById.get(slot.id);
    if (!slot) freeBefore.push(index);
    else if (!target) unmatched.push(index);
    else {
      placed.add(target.id);
      slots[index] = target;
      if (!sameEndpoint(target, slot)) {
        commands.push(
          `set server ${server(index)} state maint`,
          `set server ${server(index)} addr ${target.address} port ${target.port}`,
          `set server ${server(index)} state ready`,
        );
        changed++;
      }
    }
  });
  // A slot adopted from a running HAProxy (or an instance re-registered under
  // a new id) is matched by endpoint; any other goes to maintenance.
  for (const index of unmatched) {
    const slot = slots[index] as Target;
    const target = wanted.find((t) => !placed.has(t.id) && sameEndpoint(t, slot));
    if (target) {
      placed.add(target.id);
      slots[index] = target;
      continue;
    }
    slots[index] = undefined;
    freed.push(index);
    commands.push(`set server ${server(index)} state maint`);
    changed++;
  }

  const free = [...freeBefore, ...freed];
  const overflow: Target[] = [];
  for (const target of wanted) {
    if (placed.has(target.id)) continue;
    placed.add(target.id);
    const index = free.shift();
    if (index === undefined) {
      overflow.push(target);
      continue;
    }
    slots[index] = target;
    commands.push(
      `set server ${server(index)} addr ${target.address} port ${target.port}`,
      `set server ${server(index)} state ready`,
    );
    changed++;
  }
  return { commands, slots, changed, overflow };
}

/** How many slots a backend of `count` instances gets at a reload: room to grow by half, at least `minimum`. */
export function slotCount(count: number, current: number, minimum: number): number {
  if (count <= current) return Math.max(current, minimum);
  return Math.max(minimum, Math.ceil((count * 1.5) / 4) * 4);
}

/** The slots of a running HAProxy's backends, from `show servers state` (for a sidecar that attaches to one). */
export function adoptSlots(rows: readonly ServerState[]): Map<string, (Target | undefined)[]> {
  const backends = new Map<string, (Target | undefined)[]>();
  for (const row of rows) {
    if (!row.backend.startsWith('svc_')) continue;
    const service = row.backend.slice('svc_'.length);
    const index = Number(row.server.slice(1)) - 1;
    if (!/^s\d+$/.test(row.server) || index < 0) continue;
    const slots = backends.get(service) ?? [];
    // Forced maintenance (admin flag 0x01) is a free slot.
    slots[index] =
      row.admin & 0x01 ? undefined : { id: `${row.address}:${row.port}`, address: row.address, port: row.port };
    backends.set(service, slots);
  }
  for (const slots of backends.values()) for (let i = 0; i < slots.length; i++) slots[i] ??= undefined;
  return backends;
}
