package io.bypass.spi;

import io.bypass.BypassException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The close policy with fault-injecting resources: every step runs after a failure, and
 * every failure is reported, the first as the cause and the others suppressed.
 */
class CloserTest {
    /** A resource that records its close and fails it if told to. */
    private static final class Resource implements AutoCloseable {
        private final String name;
        private final Exception failure;
        private final List<String> closed;

        Resource(final String name, final Exception failure, final List<String> closed) {
            this.name = name;
            this.failure = failure;
            this.closed = closed;
        }

        @Override
        public void close() throws Exception {
            closed.add(name);
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final List<String> closed = new ArrayList<>();

    @Test
    void everyStepRunsAfterAFailureAndEveryFailureIsReported() {
        final IllegalStateException first = new IllegalStateException("already closed");
        final IOException second = new IOException("Bad file descriptor");
        final Closer closer = new Closer("test: closing port0");
        closer.close("the program", new Resource("program", null, closed));
        closer.close("the rings", new Resource("rings", first, closed));
        closer.close("never opened", null);
        closer.close("the socket", new Resource("socket", second, closed));
        closer.failed("rte_eth_dev_stop", "Operation not supported");
        closer.run("the memory", () -> closed.add("memory"));
        assertEquals(List.of("program", "rings", "socket", "memory"), closed, "every step ran, in order");
        assertTrue(closer.hasFailed());

        final BypassException e = assertThrows(BypassException.class, closer::throwIfFailed);
        assertEquals("test: closing port0 failed part-way (every other step still ran): the rings: "
            + "java.lang.IllegalStateException: already closed; the socket: java.io.IOException: Bad file descriptor; "
            + "rte_eth_dev_stop: Operation not supported", e.getMessage());
        assertSame(first, e.getCause(), "the first failure is the cause");
        assertEquals(2, e.getSuppressed().length, "each further failure is suppressed");
        assertSame(second, e.getSuppressed()[0]);
        assertEquals("rte_eth_dev_stop: Operation not supported", e.getSuppressed()[1].getMessage());
    }

    @Test
    void nothingFailedReportsNothing() {
        final Closer closer = new Closer("test: closing port0");
        closer.close("a", new Resource("a", null, closed));
        closer.run("b", () -> closed.add("b"));
        assertFalse(closer.hasFailed());
        assertNull(closer.failure());
        closer.throwIfFailed();
        final RuntimeException primary = new RuntimeException("open failed");
        closer.addSuppressedTo(primary);
        assertEquals(0, primary.getSuppressed().length);
        assertEquals(List.of("a", "b"), closed);
    }

    @Test
    void anErrorIsNotCaughtAndStopsTheClose() {
        final Closer closer = new Closer("test: closing port0");
        final Error fatal = new Error("JVM in trouble");
        final Error thrown = assertThrows(Error.class, () -> {
            closer.run("a", () -> {
                throw fatal;
            });
            closer.run("b", () -> closed.add("b"));
        });
        assertSame(fatal, thrown);
        assertEquals(List.of(), closed);
    }

    @Test
    void afterAFailedOpenTheReportIsSuppressedOnTheOpenFailure() {
        final RuntimeException openFailure = new RuntimeException("mmap failed");
        final Closer closer = new Closer("test: cleaning up");
        closer.failed("rte_eth_dev_close", "Device busy");
        closer.close("memory", new Resource("memory", null, closed));
        closer.addSuppressedTo(openFailure);
        assertEquals(1, openFailure.getSuppressed().length);
        assertTrue(openFailure.getSuppressed()[0].getMessage().contains("rte_eth_dev_close: Device busy"));
        assertEquals(List.of("memory"), closed);

        final IOException closeFailure = new IOException("EIO");
        final RuntimeException another = new RuntimeException("bind failed");
        Closer.closeAfterFailure(another, new Resource("port", closeFailure, closed));
        Closer.closeAfterFailure(another, null);
        assertArrayEquals(new Throwable[] {closeFailure}, another.getSuppressed());
    }

    @Test
    void closeAllClosesEachAndNamesThoseThatFailed() {
        final IllegalStateException failure = new IllegalStateException("busy");
        final BypassException e = assertThrows(BypassException.class, () -> Closer.closeAll("test: closing all",
            new Resource("a", failure, closed), null, new Resource("b", null, closed)));
        assertEquals(List.of("a", "b"), closed);
        assertEquals("test: closing all failed part-way (every other step still ran): a: java.lang.IllegalStateException: busy",
            e.getMessage());
        assertSame(failure, e.getCause());
    }

    @Test
    void theLoggingVariantLogsTheReportAsAWarning() {
        final List<String> logged = new ArrayList<>();
        final System.Logger logger = new System.Logger() {
            @Override
            public String getName() {
                return "test";
            }

            @Override
            public boolean isLoggable(final Level level) {
                return true;
            }

            @Override
            public void log(final Level level, final ResourceBundle bundle, final String msg, final Throwable thrown) {
                logged.add(level + " " + msg + " / " + thrown.getCause().getMessage());
            }

            @Override
            public void log(final Level level, final ResourceBundle bundle, final String format, final Object... params) {
                logged.add(level + " " + format);
            }
        };
        final Closer quiet = new Closer("test: closing quietly");
        quiet.logIfFailed(logger);
        assertEquals(List.of(), logged, "nothing failed, nothing logged");
        quiet.failed("step", "cause");
        quiet.logIfFailed(logger);
        assertEquals(List.of("WARNING test: closing quietly failed part-way (every other step still ran): step: cause"
            + " / step: cause"), logged);
    }
}
