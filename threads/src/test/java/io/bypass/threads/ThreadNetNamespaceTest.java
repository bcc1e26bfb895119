package io.bypass.threads;

import io.bypass.testkit.NetNamespace;
import io.bypass.testkit.Netns;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A namespace taken on a thread inside a namespace the test creates is entered from a thread
 * outside it, as the afxdp and efvi backends do for their kernel port reservations; a second
 * close does nothing.
 */
class ThreadNetNamespaceTest {
    private static final Path THREAD_NETNS = Path.of("/proc/thread-self/ns/net");

    private static String here() throws Exception {
        return Files.readSymbolicLink(THREAD_NETNS).toString();
    }

    private static <T> T onFreshThread(final Callable<T> task) throws Exception {
        final AtomicReference<T> result = new AtomicReference<>();
        final AtomicReference<Exception> failure = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            try {
                result.set(task.call());
            } catch (final Exception e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }

    @Test
    void aThreadElsewhereEntersTheNamespaceTheOpeningThreadWasIn() throws Exception {
        try (Netns ns = Netns.create("tnn")) {
            final Object[] opened = NetNamespace.call(ns.name(), () -> new Object[] {new ThreadNetNamespace("test port"), here()});
            final ThreadNetNamespace held = (ThreadNetNamespace) opened[0];
            final String inside = (String) opened[1];
            try {
                assertNotEquals(inside, onFreshThread(ThreadNetNamespaceTest::here), "a fresh thread starts outside");
                assertEquals(inside, onFreshThread(() -> {
                    held.enter();
                    return here();
                }), "and is inside after enter()");
            } finally {
                held.close();
                held.close();
            }
        }
    }
}
