package io.bypass.dpdk;

import io.bypass.Bypass;
import io.bypass.Port;
import io.bypass.dpdk.internal.ThreadAffinity;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs in a fresh JVM (the EAL starts once per process, and this check must be what starts
 * it): pins the main thread to one CPU, opens net_null ports (EAL start, hotplug probe,
 * hotplug remove) and polls from a thread pinned to another CPU (rte_thread_register), and
 * reports every step at which a thread's CPU affinity changed.
 */
final class AffinityCheck {
    private AffinityCheck() {
    }

    /**
     * @return {@code AFFINITY OK ...}, {@code AFFINITY SKIP: ...} or {@code AFFINITY CHANGED: ...} naming the steps
     * @throws InterruptedException if interrupted waiting for the polling thread
     */
    static String run() throws InterruptedException {
        final byte[] all = ThreadAffinity.get();
        final List<Integer> cpus = cpus(all);
        if (cpus.size() < 2) {
            return "AFFINITY SKIP: this process may run on CPUs " + ThreadAffinity.toList(all) + " only";
        }
        final byte[] mine = only(all.length, cpus.get(cpus.size() - 1));
        final byte[] poller = only(all.length, cpus.get(0));
        if (ThreadAffinity.set(mine) != 0) {
            throw new IllegalStateException("sched_setaffinity(" + ThreadAffinity.toList(mine) + ") failed");
        }
        final List<String> changed = new ArrayList<>();
        // The EAL's default private prefix (--in-memory, runtime directory removed) leaves nothing behind.
        final String base = "dpdk:net_null%d?hugepages=false";
        try (Port port = Bypass.open(String.format(base, 0))) {
            expect(changed, "opening the first port (rte_eal_init)", mine);
            try (Port second = Bypass.open(String.format(base, 1))) {
                expect(changed, "opening a second port (rte_dev_probe)", mine);
                final AtomicReference<String> pollerResult = new AtomicReference<>("not run");
                final Thread t = new Thread(() -> {
                    if (ThreadAffinity.set(poller) != 0) {
                        pollerResult.set("sched_setaffinity(" + ThreadAffinity.toList(poller) + ") failed");
                        return;
                    }
                    final long[] n = new long[1];
                    for (int i = 0; i < 100; i++) {
                        port.rxQueue(0).poll((b, o, l, m) -> n[0]++, 32);
                        second.rxQueue(0).poll((b, o, l, m) -> n[0]++, 32);
                    }
                    final byte[] now = ThreadAffinity.get();
                    pollerResult.set(n[0] == 0 ? "no frames polled"
                        : java.util.Arrays.equals(now, poller) ? "ok" : ThreadAffinity.toList(poller) + " -> " + ThreadAffinity.toList(now));
                }, "poller");
                t.start();
                t.join();
                if (!pollerResult.get().equals("ok")) {
                    changed.add("polling thread after rte_thread_register: " + pollerResult.get());
                }
                expect(changed, "after another thread polled", mine);
            }
            expect(changed, "closing a port (rte_eal_hotplug_remove)", mine);
        }
        expect(changed, "closing the last port", mine);
        return changed.isEmpty() ? "AFFINITY OK pinned to " + ThreadAffinity.toList(mine) : "AFFINITY CHANGED: " + String.join("; ", changed);
    }

    private static void expect(final List<String> changed, final String step, final byte[] want) {
        final byte[] now = ThreadAffinity.get();
        if (!java.util.Arrays.equals(now, want)) {
            changed.add(step + ": " + ThreadAffinity.toList(want) + " -> " + ThreadAffinity.toList(now));
        }
    }

    private static List<Integer> cpus(final byte[] mask) {
        final List<Integer> out = new ArrayList<>();
        for (int cpu = 0; cpu < mask.length * 8; cpu++) {
            if ((mask[cpu >> 3] & (1 << (cpu & 7))) != 0) {
                out.add(cpu);
            }
        }
        return out;
    }

    private static byte[] only(final int length, final int cpu) {
        final byte[] m = new byte[length];
        m[cpu >> 3] = (byte) (1 << (cpu & 7));
        return m;
    }
}
