package io.bypass.samples.cli;

import io.bypass.testing.Requirements;
import io.bypass.threads.Affinity;
import io.bypass.threads.CpuSet;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --cpu N}: the polling thread alone on CPU N, the JVM's other threads off it, all undone by release. */
class ContextPlacementTest {
    private static CpuSet allowed(final long tid) {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return CpuSet.parse(line.substring(18));
                }
            }
        } catch (final java.io.IOException e) {
            return null;
        }
        return null;
    }

    private static String place(final String isolate) throws Exception {
        final CpuSet mine = Affinity.currentThread();
        Requirements.require(mine.size() >= 2, "needs two CPUs or more; this JVM may use " + mine);
        final int cpu = mine.last();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final Context ctx = new Context(System.out, new PrintStream(err, true, StandardCharsets.UTF_8));
        ctx.configure(Context.common(new Options("x", "x"), true, null).parse(new String[] {"x", "--cpu", String.valueOf(cpu), "--isolate", isolate}, 1));
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread poller = new Thread(() -> {
            try {
                ctx.pinCurrentThread();
                final long self = Affinity.currentThreadId();
                assertEquals(CpuSet.of(cpu), allowed(self));
                for (final long tid : Affinity.threadIds()) {
                    final CpuSet s = allowed(tid);
                    if (tid != self && s != null) {
                        assertEquals("true".equals(isolate), !s.contains(cpu), "thread " + tid + ": " + s);
                    }
                }
                ctx.ready();
            } catch (final Throwable t) {
                failure.set(t);
            } finally {
                ctx.release();
            }
            if (failure.get() == null && !mine.equals(Affinity.currentThread())) {
                failure.set(new AssertionError("not restored: " + Affinity.currentThread()));
            }
        });
        poller.start();
        poller.join();
        if (failure.get() != null) {
            throw new AssertionError(err.toString(StandardCharsets.UTF_8), failure.get());
        }
        for (final long tid : Affinity.threadIds()) {
            final CpuSet s = allowed(tid);
            assertTrue(s == null || s.contains(cpu) || tid == Affinity.currentThreadId() && !mine.contains(cpu), "thread " + tid + " restored: " + s);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void cpuIsolatesByDefault() throws Exception {
        final String err = place("true");
        assertTrue(err.contains("moved") && err.contains("other JVM threads"), err);
    }

    @Test
    void isolateFalseOnlyPins() throws Exception {
        final String err = place("false");
        assertTrue(err.contains("--isolate false"), err);
        assertFalse(err.contains("moved"), err);
    }
}
