import { describe, expect, it } from 'vitest';
import { adoptSlots, planSlots, slotCount } from '../src/slots.ts';

const t = (id: string, port: number, address = '10.0.0.1') => ({ id, address, port });

describe('planSlots', () => {
  it('puts a new instance in a free slot: addr, then ready', () => {
    const plan = planSlots('users', [t('a', 1), undefined], [t('a', 1), t('b', 2)]);
    expect(plan.commands).toEqual([
      'set server svc_users/s2 addr 10.0.0.1 port 2',
      'set server svc_users/s2 state ready',
    ]);
    expect(plan.slots).toEqual([t('a', 1), t('b', 2)]);
    expect(plan.changed).toBe(1);
  });

  it('sends a gone instance to maintenance and keeps the others where they are', () => {
    const plan = planSlots('users', [t('a', 1), t('b', 2), t('c', 3)], [t('a', 1), t('c', 3)]);
    expect(plan.commands).toEqual(['set server svc_users/s2 state maint']);
    expect(plan.slots).toEqual([t('a', 1), undefined, t('c', 3)]);
  });

  it('moves an instance whose address changed in its own slot', () => {
    const plan = planSlots('users', [t('a', 1)], [t('a', 9, '10.0.0.2')]);
    expect(plan.commands).toEqual([
      'set server svc_users/s1 state maint',
      'set server svc_users/s1 addr 10.0.0.2 port 9',
      'set server svc_users/s1 state ready',
    ]);
  });

  it('prefers slots free before over one just left, and reports what does not fit', () => {
    const plan = planSlots('users', [t('a', 1), undefined], [t('b', 2), t('c', 3)]);
    expect(plan.slots).toEqual([t('c', 3), t('b', 2)]);
    const full = planSlots('users', [t('a', 1)], [t('a', 1), t('b', 2)]);
    expect(full.overflow).toEqual([t('b', 2)]);
    expect(full.commands).toEqual([]);
  });

  it('matches a slot adopted from a running HAProxy by its endpoint, without a command', () => {
    const adopted = adoptSlots([
      { backend: 'svc_users', server: 's1', address: '10.0.0.1', port: 1, operational: 2, admin: 0 },
      { backend: 'svc_users', server: 's2', address: '127.0.0.1', port: 1, operational: 0, admin: 5 },
    ]);
    const slots = adopted.get('users') ?? [];
    expect(slots).toEqual([{ id: '10.0.0.1:1', address: '10.0.0.1', port: 1 }, undefined]);
    const plan = planSlots('users', slots, [t('a', 1)]);
    expect(plan.commands).toEqual([]);
    expect(plan.slots).toEqual([t('a', 1), undefined]);
  });
});

describe('slotCount', () => {
  it('grows a full backend by half, never below the minimum, never shrinks', () => {
    expect(slotCount(3, 0, 8)).toBe(8);
    expect(slotCount(9, 8, 8)).toBe(16);
    expect(slotCount(2, 16, 8)).toBe(16);
  });
});
