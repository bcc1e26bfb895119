package io.bypass.spi;

import io.bypass.testing.Requirements;
import io.bypass.testkit.VethPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Linker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** A namespace taken on one thread is entered from another, and closing twice is harmless. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetNamespaceFdTest {
    private static final Path THREAD_NETNS = Path.of("/proc/thread-self/ns/net");

    @Test
    void aThreadElsewhereEntersTheOpeningThreadsNamespace() throws Exception {
        Requirements.requireNetns();
        try (VethPair t = VethPair.create()) {
            final Linker linker = Linker.nativeLinker();
            final NetNamespaceFd ns = t.executorA().call(() -> NetNamespaceFd.ofCallingThread("test", t.ifaceA(),
                (name, fd) -> linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), fd, NetNamespaceFd.ERRNO)));
            final String portNamespace = t.executorA().call(() -> Files.readSymbolicLink(THREAD_NETNS).toString());
            final String[] seen = new String[1];
            final Thread other = Thread.ofPlatform().start(() -> {
                try {
                    ns.enter();
                    seen[0] = Files.readSymbolicLink(THREAD_NETNS).toString();
                } catch (final Exception e) {
                    seen[0] = e.toString();
                }
            });
            other.join();
            assertNotEquals(Files.readSymbolicLink(THREAD_NETNS).toString(), portNamespace, "the port's namespace is not ours");
            assertEquals(portNamespace, seen[0], "entered from a thread outside it");
            ns.close();
            ns.close();
        }
    }
}
