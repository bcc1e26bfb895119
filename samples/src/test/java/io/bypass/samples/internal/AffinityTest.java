package io.bypass.samples.internal;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AffinityTest {
    /** Pins a fresh thread and reads its allowed CPUs back from /proc/thread-self/status. */
    @Test
    void pinsOnlyTheCallingThread() throws Exception {
        final int cpu = Runtime.getRuntime().availableProcessors() - 1;
        final AtomicReference<String> pinned = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            Affinity.pinCurrentThread(cpu);
            pinned.set(allowed());
        });
        t.start();
        t.join();
        assertEquals(String.valueOf(cpu), pinned.get());
        assertTrue(Affinity.isOnline(cpu));
        // This thread was not touched.
        if (Runtime.getRuntime().availableProcessors() > 1) {
            assertTrue(!allowed().equals(String.valueOf(cpu)), allowed());
        }
    }

    @Test
    void refusedCpuNamesTheCause() {
        final Thread[] holder = new Thread[1];
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        holder[0] = new Thread(() -> {
            try {
                Affinity.pinCurrentThread(Affinity.MAX_CPUS - 1);
            } catch (final Throwable e) {
                thrown.set(e);
            }
        });
        holder[0].start();
        assertThrows(IllegalStateException.class, () -> {
            holder[0].join();
            if (thrown.get() != null) {
                throw thrown.get();
            }
        });
        assertTrue(thrown.get().getMessage().contains("sched_setaffinity"), thrown.get().getMessage());
    }

    private static String allowed() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return line.substring(18).trim();
                }
            }
        } catch (final Exception e) {
            throw new IllegalStateException(e);
        }
        return "?";
    }
}
